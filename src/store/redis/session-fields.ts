import type { MediaSession } from '../session-store';

/** Sessions whose last written fields this instance remembers (least recently written forgotten first). */
const MAX_REMEMBERED = 20_000;

/** An object field's value as written: its JSON, serialised once (the HSET value, the next update's comparison, the stored copy's source). */
class Json {
  constructor(readonly text: string) {}
}

/**
 * A field's value as compared: primitives as they are (immutable, compared without serialising a
 * large SDP string), objects as their `Json` (immune to later in-place edits of the object).
 */
type Fingerprint = string | number | boolean | Json;

const fingerprintOf = (v: unknown): Fingerprint => (typeof v === 'object' && v !== null ? new Json(JSON.stringify(v)) : (v as string | number | boolean));
const jsonOf = (fp: Fingerprint): string => (fp instanceof Json ? fp.text : JSON.stringify(fp));
const sameValue = (a: Fingerprint | undefined, b: Fingerprint): boolean => (b instanceof Json ? a instanceof Json && a.text === b.text : a === b);

/** A session's defined properties but `version`, each serialised once (`Fingerprint`), in property order. */
export type SessionValues = Map<string, Fingerprint>;

/** The values of `s` (each object property serialised once). */
export function sessionValues(s: MediaSession): SessionValues {
  const values: SessionValues = new Map();
  for (const k in s) {
    const v = s[k as keyof MediaSession];
    if (k !== 'version' && v !== undefined) values.set(k, fingerprintOf(v));
  }
  return values;
}

/** The hash fields of a session: one per defined property but `version` (kept in `v`), its value as JSON. */
export function sessionFields(values: SessionValues): string[] {
  const out: string[] = [];
  for (const [k, fp] of values) out.push(k, jsonOf(fp));
  return out;
}

/** The session of a hash read with HGETALL (undefined when there is none). */
export function sessionFromHash(h: Record<string, string>): MediaSession | undefined {
  if (h.v === undefined) return undefined;
  const s: Record<string, unknown> = {};
  for (const k in h) if (k !== 'v') s[k] = JSON.parse(h[k] as string);
  s.version = Number(h.v);
  return s as unknown as MediaSession;
}

/**
 * A copy of the session serialised as `values` at `version`, as a read would return it (undefined
 * properties dropped): object properties parsed back from the JSON just written (a deep copy, as a
 * read from Redis would be, cheaper than structuredClone), primitives as they are.
 */
export function storedCopy(values: SessionValues, version: number): MediaSession {
  const c: Record<string, unknown> = {};
  for (const [k, fp] of values) c[k] = fp instanceof Json ? JSON.parse(fp.text) : fp;
  c.version = version;
  return c as unknown as MediaSession;
}

/** What an update writes: field/value pairs, fields to remove, or every field (`replace`); `values` are the session's, for `written` and `storedCopy`. */
export interface FieldChanges {
  set: string[];
  del: string[];
  replace: boolean;
  values: SessionValues;
}

/**
 * The fields of each session this instance last wrote, at which version, so that an update sends
 * only what changed (an SDP is not re-sent with every status). A session it does not remember at
 * the expected version (written elsewhere, forgotten, a conflict) is written whole. Each object
 * property is serialised once per update: that JSON is compared, written and kept for the next one.
 */
export class WrittenFields {
  private readonly byId = new Map<string, { version: number; values: SessionValues }>();

  constructor(private readonly max = MAX_REMEMBERED) {}

  /** sessions remembered */
  get size(): number {
    return this.byId.size;
  }

  changes(next: MediaSession, expectedVersion: number): FieldChanges {
    const values = sessionValues(next);
    const known = this.byId.get(next.mediaSessionId);
    if (!known || known.version !== expectedVersion) return { set: sessionFields(values), del: [], replace: true, values };
    const set: string[] = [];
    const del: string[] = [];
    for (const [k, fp] of values) if (!sameValue(known.values.get(k), fp)) set.push(k, jsonOf(fp));
    for (const k of known.values.keys()) if (!values.has(k)) del.push(k);
    return { set, del, replace: false, values };
  }

  /** The session serialised as `values` is stored at `version` (`final`: no further update expected here, forget it). */
  written(id: string, values: SessionValues, version: number, final: boolean): void {
    this.byId.delete(id);
    if (final) return;
    this.byId.set(id, { version, values });
    if (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value ?? id);
  }

  forget(id: string): void {
    this.byId.delete(id);
  }
}

import type { MediaSession } from '../session-store';

/** Sessions whose last written fields this instance remembers (least recently written forgotten first). */
const MAX_REMEMBERED = 20_000;

/** A field's value as compared: primitives as they are (immutable), objects as their JSON (immune to later in-place edits). */
const fingerprint = (v: unknown): unknown => (typeof v === 'object' && v !== null ? JSON.stringify(v) : v);

/** The hash fields of a session: one per defined property but `version` (kept in `v`), its value as JSON. */
export function sessionFields(s: MediaSession): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(s)) if (k !== 'version' && v !== undefined) out.push(k, JSON.stringify(v));
  return out;
}

/** The session of a hash read with HGETALL (undefined when there is none). */
export function sessionFromHash(h: Record<string, string>): MediaSession | undefined {
  if (h.v === undefined) return undefined;
  const s: Record<string, unknown> = {};
  for (const [k, raw] of Object.entries(h)) if (k !== 'v') s[k] = JSON.parse(raw);
  s.version = Number(h.v);
  return s as unknown as MediaSession;
}

/** A copy of `s` at `version`, as a read would return it (undefined properties dropped). */
export function storedCopy(s: MediaSession, version: number): MediaSession {
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (v !== undefined) c[k] = typeof v === 'object' && v !== null ? structuredClone(v) : v;
  c.version = version;
  return c as unknown as MediaSession;
}

/** What an update writes: field/value pairs, fields to remove, or every field (`replace`). */
export interface FieldChanges {
  set: string[];
  del: string[];
  replace: boolean;
}

/**
 * The fields of each session this instance last wrote, at which version, so that an update sends
 * only what changed (an SDP is not re-sent with every status). A session it does not remember at
 * the expected version (written elsewhere, forgotten, a conflict) is written whole.
 */
export class WrittenFields {
  private readonly byId = new Map<string, { version: number; values: Map<string, unknown> }>();

  changes(next: MediaSession, expectedVersion: number): FieldChanges {
    const known = this.byId.get(next.mediaSessionId);
    if (!known || known.version !== expectedVersion) return { set: sessionFields(next), del: [], replace: true };
    const set: string[] = [];
    const del: string[] = [];
    const seen = new Set<string>();
    for (const [k, v] of Object.entries(next)) {
      if (k === 'version' || v === undefined) continue;
      seen.add(k);
      const fp = fingerprint(v);
      if (known.values.get(k) !== fp) set.push(k, typeof fp === 'string' && typeof v === 'object' ? fp : JSON.stringify(v));
    }
    for (const k of known.values.keys()) if (!seen.has(k)) del.push(k);
    return { set, del, replace: false };
  }

  /** `s` is stored at `version` (`final`: no further update expected here, forget it). */
  written(s: MediaSession, version: number, final: boolean): void {
    this.byId.delete(s.mediaSessionId);
    if (final) return;
    const values = new Map<string, unknown>();
    for (const [k, v] of Object.entries(s)) if (k !== 'version' && v !== undefined) values.set(k, fingerprint(v));
    this.byId.set(s.mediaSessionId, { version, values });
    if (this.byId.size > MAX_REMEMBERED) this.byId.delete(this.byId.keys().next().value ?? s.mediaSessionId);
  }

  forget(id: string): void {
    this.byId.delete(id);
  }
}

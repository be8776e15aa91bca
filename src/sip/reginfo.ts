import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { assertUri } from './sip-syntax';

/**
 * The `reg` event package (RFC 3680): the `application/reginfo+xml` body of a NOTIFY and its
 * Subscription-State header (RFC 6665 §8.2.3). Pure: no I/O. What to do with a document is the
 * registrations feature's decision.
 */

export const REGINFO_CONTENT_TYPE = 'application/reginfo+xml';

/** RFC 3680 §5.3 `contact` element. Only what the gateway decides on. */
export interface RegInfoContact {
  id: string;
  state: 'active' | 'terminated';
  /** registered, created, refreshed, shortened, expired, deactivated, probation, unregistered, rejected (RFC 3680 §5.3). */
  event: string;
  uri: string;
  /** `expires` attribute (seconds), when present. */
  expiresS?: number;
  /** `+sip.instance` from `unknown-param` (RFC 5626 §4.1), as written: `<urn:uuid:…>`. */
  instance?: string;
}

/** RFC 3680 §5.3 `registration` element: one address-of-record. */
export interface RegInfoRegistration {
  aor: string;
  id: string;
  state: 'init' | 'active' | 'terminated';
  contacts: RegInfoContact[];
}

/** RFC 3680 §5.3 `reginfo` document. */
export interface RegInfo {
  version: number;
  state: 'full' | 'partial';
  registrations: RegInfoRegistration[];
}

export class RegInfoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegInfoError';
  }
}

type Node = Record<string, unknown>;

// processEntities: false — no entity expansion at all (no DOCTYPE entities, no billion laughs);
// the five predefined XML entities are decoded by `text` below.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: false,
  isArray: (name) => name === 'registration' || name === 'contact' || name === 'unknown-param',
});

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => PREDEFINED[e] ?? '');
  if (typeof v === 'object' && v !== null && '#text' in v) return text((v as Node)['#text']);
  return undefined;
}

function attr(node: Node, name: string): string | undefined {
  return text(node[`@${name}`]);
}

function required(node: Node, name: string, what: string): string {
  const v = attr(node, name);
  if (v === undefined || v === '') throw new RegInfoError(`${what} without ${name}`);
  return v;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new RegInfoError(`${what} "${value.slice(0, 32)}" is not one of ${allowed.join(', ')}`);
  return value as T;
}

/** A SIP/SIPS/TEL URI fit for a header (no CR/LF, no spaces). */
function uriOf(value: string, what: string): string {
  try {
    return assertUri(value, what);
  } catch (err) {
    throw new RegInfoError(err instanceof Error ? err.message : `${what} is not a URI`);
  }
}

function nodes(v: unknown): Node[] {
  return Array.isArray(v) ? v.filter((n): n is Node => typeof n === 'object' && n !== null) : [];
}

function uint(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value)) throw new RegInfoError(`${what} is not a non-negative integer`);
  return Number(value);
}

function parseContact(c: Node): RegInfoContact {
  const uri = text(c.uri);
  if (uri === undefined || uri === '') throw new RegInfoError('contact without uri');
  const contact: RegInfoContact = {
    id: required(c, 'id', 'contact'),
    state: oneOf(required(c, 'state', 'contact'), ['active', 'terminated'] as const, 'contact state'),
    event: required(c, 'event', 'contact'),
    uri: uriOf(uri, 'reginfo contact uri'),
  };
  const expiresS = uint(attr(c, 'expires'), 'contact expires');
  if (expiresS !== undefined) contact.expiresS = expiresS;
  const instance = nodes(c['unknown-param']).find((p) => attr(p, 'name')?.toLowerCase() === '+sip.instance');
  const value = instance && text(instance)?.replace(/^"|"$/g, '');
  if (value) contact.instance = value;
  return contact;
}

/** Parses an `application/reginfo+xml` document (RFC 3680 §5.3). Throws RegInfoError when it is not one. */
export function parseRegInfo(xml: string): RegInfo {
  if (XMLValidator.validate(xml) !== true) throw new RegInfoError('reginfo is not well-formed XML');
  const doc = parser.parse(xml) as Node;
  const root = doc.reginfo;
  if (typeof root !== 'object' || root === null) throw new RegInfoError('no reginfo element');
  const info = root as Node;
  const version = uint(required(info, 'version', 'reginfo'), 'reginfo version') ?? 0;
  const state = oneOf(required(info, 'state', 'reginfo'), ['full', 'partial'] as const, 'reginfo state');
  const registrations = nodes(info.registration).map((r): RegInfoRegistration => ({
    aor: uriOf(required(r, 'aor', 'registration'), 'reginfo aor'),
    id: required(r, 'id', 'registration'),
    state: oneOf(required(r, 'state', 'registration'), ['init', 'active', 'terminated'] as const, 'registration state'),
    contacts: nodes(r.contact).map(parseContact),
  }));
  return { version, state, registrations };
}

/** RFC 6665 §8.2.3 / §4.1.3: the Subscription-State of a NOTIFY. */
export interface SubscriptionState {
  state: 'active' | 'pending' | 'terminated';
  /** `reason` of a terminated subscription (deactivated, probation, rejected, timeout, giveup, noresource, invariant). */
  reason?: string;
  expiresS?: number;
  retryAfterS?: number;
}

/** Parses `Subscription-State: active;expires=600000`. Throws RegInfoError when absent or unparsable. */
export function parseSubscriptionState(value: string | undefined): SubscriptionState {
  if (value === undefined) throw new RegInfoError('NOTIFY without Subscription-State');
  const [head = '', ...params] = value.split(';').map((s) => s.trim());
  const state = oneOf(head.toLowerCase(), ['active', 'pending', 'terminated'] as const, 'Subscription-State');
  const out: SubscriptionState = { state };
  for (const p of params) {
    const [name = '', v] = p.split('=').map((s) => s.trim());
    const key = name.toLowerCase();
    if (key === 'reason' && v && /^[A-Za-z0-9.!%*_+`'~-]+$/.test(v)) out.reason = v.toLowerCase();
    else if (key === 'expires') {
      const n = uint(v, 'Subscription-State expires');
      if (n !== undefined) out.expiresS = n;
    } else if (key === 'retry-after') {
      const n = uint(v, 'Subscription-State retry-after');
      if (n !== undefined) out.retryAfterS = n;
    }
  }
  return out;
}

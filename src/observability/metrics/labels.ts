import { SESSION_STATUSES, SessionStatus } from '../../domain/media-session-status';

/**
 * Label values are normalised here so that no caller can create an unbounded series: nothing
 * derived from ids, URIs, phone numbers or free text ever becomes a label.
 */

export type CallDirection = 'outgoing' | 'incoming';
export type SipDirection = 'in' | 'out';

/** Methods we label by name (RFC 3261 plus the extensions an IMS core uses); anything else is `other`. */
const SIP_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'MESSAGE', 'NOTIFY', 'SUBSCRIBE', 'PUBLISH']);

export function sipMethodLabel(method: string): string {
  const m = method.toUpperCase();
  return SIP_METHODS.has(m) ? m : 'other';
}

/** A SIP status code 100..699 as text, `none` when absent, `other` when not a valid code. */
export function sipCodeLabel(code: number | undefined): string {
  if (code === undefined) return 'none';
  return Number.isInteger(code) && code >= 100 && code <= 699 ? String(code) : 'other';
}

export function httpStatusLabel(code: number): string {
  return Number.isInteger(code) && code >= 100 && code <= 599 ? String(code) : 'other';
}

const STATUSES: ReadonlySet<string> = new Set(SESSION_STATUSES);
export function sessionStatusLabel(status: SessionStatus): string {
  return STATUSES.has(status) ? status : 'other';
}

export function directionLabel(direction: CallDirection): CallDirection {
  return direction === 'incoming' ? 'incoming' : 'outgoing';
}

/** Store and operation names come from code, not input; still, keep them to a safe alphabet. */
export function identifierLabel(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64);
  return clean === '' ? 'unknown' : clean;
}

/**
 * A SIP reason phrase or internal reason, made safe to keep and show: no control characters, no
 * phone numbers or URIs (a reason phrase is chosen by the far end), at most 120 characters.
 */
export function sanitizeReason(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  const clean = reason
    // eslint-disable-next-line no-control-regex -- control characters are what this strips
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\b(?:sips?|tel|urn):[^\s;,>]+/gi, '[uri]')
    .replace(/\+?\d[\d\s().-]{4,}\d/g, '[number]')
    .replace(/[\w.+-]+@[\w.-]+/g, '[address]')
    .trim()
    .slice(0, 120);
  return clean === '' ? undefined : clean;
}

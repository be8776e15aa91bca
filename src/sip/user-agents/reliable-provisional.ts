import type { SipMessage } from 'sip';
import { headerString } from '../sip-syntax';

/**
 * RFC 3262 (reliable provisional responses, option tag `100rel`), the parts both roles share.
 * `SIP_100REL`: `supported` (default) offers it and uses it when the far end requires it or, as
 * UAS, when the caller supports it and we prefer it; `required` insists on it; `disabled` never
 * uses it (an INVITE that requires it is refused 420, RFC 3261 §8.2.2.3).
 */
export type Rel100Mode = 'supported' | 'required' | 'disabled';

/** Whether a Supported/Require header value lists an option tag (case-insensitive tokens, RFC 3261 §20.37). */
export function hasOptionTag(value: unknown, tag: string): boolean {
  const text = Array.isArray(value) ? value.map((v) => headerString(v) ?? '').join(',') : (headerString(value) ?? '');
  return text
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .includes(tag);
}

/** Headers our INVITEs carry for 100rel (RFC 3262 §4: Supported, or Require when we insist). */
export function rel100InviteHeaders(mode: Rel100Mode): Record<string, string> {
  switch (mode) {
    case 'supported':
      return { supported: '100rel' };
    case 'required':
      return { supported: '100rel', require: '100rel' };
    case 'disabled':
      return {};
  }
}

/** A 101–199 response sent reliably: Require: 100rel and an RSeq (RFC 3262 §7.1). Its RSeq, or undefined. */
export function reliableRseq(rs: SipMessage): number | undefined {
  const status = rs.status ?? 0;
  if (status <= 100 || status >= 200 || !hasOptionTag(rs.headers.require, '100rel')) return undefined;
  const raw = headerString(rs.headers.rseq)?.trim();
  if (raw === undefined || !/^\d{1,10}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= 2 ** 32 - 1 ? n : undefined;
}

/**
 * UAC: which reliable provisional responses to PRACK. RFC 3262 §4: per dialog (To tag), the first
 * RSeq seen starts the sequence; a later one is processed only when it is exactly one higher. A
 * retransmission (same RSeq) or an out-of-order one is neither PRACKed nor processed, so the app
 * gets one event per RSeq.
 */
export class RseqTracker {
  private readonly last = new Map<string, number>();

  /** True when this response must be PRACKed and passed on; false: discard it. */
  accept(remoteTag: string, rseq: number): boolean {
    const prev = this.last.get(remoteTag);
    if (prev !== undefined && rseq !== prev + 1) return false;
    this.last.set(remoteTag, rseq);
    return true;
  }
}

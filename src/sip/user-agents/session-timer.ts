import type { SipMessage } from 'sip';
import { headerString } from '../sip-syntax';
import { hasOptionTag } from './reliable-provisional';

/**
 * RFC 4028 (session timers, option tag `timer`), the pure parts both roles share: the headers our
 * requests carry, how a response or request sets the interval and who refreshes, and when to
 * refresh or give up. The scheduling is `session-timers.ts`.
 */

/** RFC 4028 §4: Min-SE never below 90 s. */
export const RFC4028_MIN_SE_S = 90;

/** `SIP_SESSION_EXPIRES_S` (0: we ask for no session timer) and `SIP_MIN_SE_S`. */
export interface SessionTimerConfig {
  expiresS: number;
  minSeS: number;
}

/** The negotiated timer of one dialog: the interval, and whether this side sends the refreshes. */
export interface SessionTimer {
  intervalS: number;
  refresher: 'local' | 'remote';
}

/** A `Session-Expires` value (RFC 4028 §4): delta-seconds and the optional `refresher` parameter. */
export interface SessionExpires {
  deltaS: number;
  refresher?: 'uac' | 'uas';
}

export function parseSessionExpires(value: unknown): SessionExpires | undefined {
  const text = headerString(Array.isArray(value) ? (value as unknown[])[0] : value);
  if (text === undefined) return undefined;
  const [delta = '', ...params] = text.split(';').map((p) => p.trim());
  if (!/^\d{1,10}$/.test(delta)) return undefined;
  const out: SessionExpires = { deltaS: Number(delta) };
  for (const p of params) {
    const [name = '', val = ''] = p.split('=').map((x) => x.trim().toLowerCase());
    if (name === 'refresher' && (val === 'uac' || val === 'uas')) out.refresher = val;
  }
  return out;
}

/** A `Min-SE` value (RFC 4028 §5), or undefined. */
export function parseMinSe(value: unknown): number | undefined {
  const text = headerString(Array.isArray(value) ? (value as unknown[])[0] : value)
    ?.split(';')[0]
    ?.trim();
  return text !== undefined && /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}

export const formatSessionExpires = (se: SessionExpires): string => `${se.deltaS}${se.refresher ? `;refresher=${se.refresher}` : ''}`;

/**
 * Headers of an INVITE we send (RFC 4028 §7.1): Session-Expires and Min-SE; `Supported: timer`
 * is added to the Supported value by the caller. `expiresS` overrides the configured interval (the
 * retry after a 422, §7.1/§6). Empty when session timers are disabled.
 */
export function timerRequestHeaders(cfg: SessionTimerConfig, expiresS = cfg.expiresS, minSeS = cfg.minSeS): Record<string, string> {
  if (cfg.expiresS === 0) return {};
  return { 'session-expires': String(Math.max(expiresS, minSeS)), 'min-se': String(minSeS) };
}

/** `supported` for an INVITE: the 100rel value (if any) plus `timer` when session timers are on. */
export function withTimerSupported(supported: string | undefined, cfg: SessionTimerConfig): string | undefined {
  if (cfg.expiresS === 0) return supported;
  return supported ? `${supported}, timer` : 'timer';
}

/**
 * As UAC (RFC 4028 §7.2): the timer a 2xx to our INVITE (or refresh) sets. A 2xx without
 * Session-Expires means no session expiration; `refresher=uac` makes us the refresher. A 2xx
 * without `refresher` (a UAS that does not know the extension, the value added by a proxy) leaves
 * it to us, the UAC (§7.2, §8.1).
 */
export function timerFrom2xx(rs: SipMessage): SessionTimer | undefined {
  const se = parseSessionExpires(rs.headers['session-expires']);
  if (!se || se.deltaS === 0) return undefined;
  return { intervalS: se.deltaS, refresher: se.refresher === 'uas' ? 'remote' : 'local' };
}

/** What an initial INVITE asks of us as UAS (RFC 4028 §9). */
export type UasTimerDecision =
  /** No session timer on this call. */
  | { kind: 'none' }
  /** 422 Session Interval Too Small with our Min-SE (§9, §6). */
  | { kind: 'too-small'; minSeS: number }
  /** The 2xx carries `Session-Expires` (and `Require: timer` when the caller refreshes). */
  | { kind: 'timer'; timer: SessionTimer; sessionExpires: SessionExpires; requireTimer: boolean };

/**
 * As UAS (RFC 4028 §9): the caller's Session-Expires is honoured (never below its own Min-SE, nor
 * ours: 422); its `refresher` stands; without one, a caller that supports `timer` refreshes, else
 * we do. Without a Session-Expires we still keep a timer of our own (configured interval, we
 * refresh: any UA answers a re-INVITE/UPDATE), so that a call whose BYE was lost ends.
 */
export function uasTimerFor(rq: SipMessage, cfg: SessionTimerConfig): UasTimerDecision {
  const se = parseSessionExpires(rq.headers['session-expires']);
  const callerSupports = hasOptionTag(rq.headers.supported, 'timer') || hasOptionTag(rq.headers.require, 'timer');
  if (!se || se.deltaS === 0) {
    if (cfg.expiresS === 0) return { kind: 'none' };
    return { kind: 'timer', timer: { intervalS: cfg.expiresS, refresher: 'local' }, sessionExpires: { deltaS: cfg.expiresS, refresher: 'uas' }, requireTimer: false };
  }
  // §9: an interval below our minimum is refused 422 with our Min-SE (only when we use timers)
  if (cfg.expiresS !== 0 && se.deltaS < cfg.minSeS) return { kind: 'too-small', minSeS: cfg.minSeS };
  const refresher = se.refresher ?? (callerSupports ? 'uac' : 'uas');
  return {
    kind: 'timer',
    timer: { intervalS: se.deltaS, refresher: refresher === 'uac' ? 'remote' : 'local' },
    sessionExpires: { deltaS: se.deltaS, refresher },
    // §9: refresher=uac in the 2xx requires the caller to do it: Require: timer
    requireTimer: refresher === 'uac',
  };
}

/**
 * A refresh (re-INVITE or UPDATE) from the far end, as its UAS (§9 again, the sender is the UAC of
 * this transaction): its Session-Expires sets the new interval; without one the current timer is
 * kept (and stated in our 2xx) rather than dropped.
 */
export function timerForRefreshRequest(rq: SipMessage, current: SessionTimer): { timer: SessionTimer; sessionExpires: SessionExpires } {
  const se = parseSessionExpires(rq.headers['session-expires']);
  if (!se || se.deltaS === 0) return { timer: current, sessionExpires: { deltaS: current.intervalS, refresher: current.refresher === 'local' ? 'uas' : 'uac' } };
  const callerSupports = hasOptionTag(rq.headers.supported, 'timer');
  const refresher = se.refresher ?? (callerSupports ? 'uac' : 'uas');
  return { timer: { intervalS: se.deltaS, refresher: refresher === 'uac' ? 'remote' : 'local' }, sessionExpires: { deltaS: se.deltaS, refresher } };
}

/** §10: the refresher sends its refresh at half the interval. */
export const refreshDelayS = (t: SessionTimer): number => t.intervalS / 2;

/** §10: without a refresh, BYE before the expiry by the smaller of 32 s and a third of the interval. */
export const expiryDelayS = (t: SessionTimer): number => t.intervalS - Math.min(32, t.intervalS / 3);

/** The far end accepts UPDATE (its Allow lists it): refreshes go in UPDATE, else in re-INVITE (§7.4 / §9). */
export function allowsUpdate(m: SipMessage): boolean {
  return hasOptionTag(m.headers.allow, 'update');
}

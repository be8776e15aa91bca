import type { SipMessage } from 'sip';
import type { Logger } from 'pino';
import type { Peer } from '../transport';
import type { ClientHandlers, SendOptions, SentRequest } from '../transactions/client-transactions';
import { parseVia } from '../transactions/via';
import { CallAffinity } from './call-affinity';
import type { OutboundTargets } from './outbound-targets';

/** Longest Retry-After honoured for a 503 of an outbound target (RFC 3261 §21.5.4, §20.33). */
export const MAX_RETRY_AFTER_S = 300;

type Send = (rq: SipMessage, h: ClientHandlers, opts: SendOptions) => SentRequest;

/**
 * Sends requests to the outbound proxy's targets in turn (RFC 3263 §4.3): when a transaction times
 * out (Timer B/F), the transport fails, or a 503 comes before the request got anywhere (no
 * provisional beyond 100), the same request goes to the next target as a new transaction (new Via
 * branch; same Call-ID, CSeq and everything else). The transaction user sees one transaction: only
 * the last attempt's outcome, and `onRetarget` with the new branch (a CANCEL must carry it).
 * Requests of a Call-ID that a target answered go to that target first while it is usable
 * (call-affinity.ts): a digest retry, a refresh or a BYE stays on the P-CSCF of its registration
 * or dialog.
 */
export class FailoverSender {
  /** INVITE branch → the target it went to: its CANCEL goes there too (RFC 3261 §9.1). */
  private readonly inviteTargets = new Map<string, Peer>();

  constructor(
    private readonly send: Send,
    private readonly targets: OutboundTargets,
    private readonly logger: Logger,
    private readonly affinity = new CallAffinity(),
  ) {}

  /** Where a message outside any transaction goes (the ACK for a 2xx): the Call-ID's target, else the first candidate. */
  destinationOf(m: SipMessage): Peer | undefined {
    const callId = typeof m.headers['call-id'] === 'string' ? m.headers['call-id'] : '';
    return this.affinity.order(callId, this.targets.candidates(), (p) => this.targets.isUsable(p))[0];
  }

  /** A dialog the far end ended (its BYE): no request of ours follows in it, so its Call-ID's target is forgotten now, not at the affinity's bounds. */
  forgetCallId(callId: string): void {
    this.affinity.forget(callId);
  }

  sendRequest(rq: SipMessage, h: ClientHandlers, opts: SendOptions): SentRequest {
    if (opts.to) return this.send(rq, h, opts);
    if (opts.via !== undefined) {
      const branch = parseVia(opts.via)?.params.branch;
      const to = (typeof branch === 'string' ? this.inviteTargets.get(branch) : undefined) ?? this.targets.primary();
      return this.send(rq, h, { ...opts, ...(to && { to }) });
    }
    const callId = typeof rq.headers['call-id'] === 'string' ? rq.headers['call-id'] : '';
    const list = this.affinity.order(callId, this.targets.candidates(), (p) => this.targets.isUsable(p));
    const sent: SentRequest = { branch: '', via: '' };
    if (list.length === 0) {
      const why = this.targets.dnsError ?? 'no target';
      queueMicrotask(() => h.onTransportError(new Error(`the outbound proxy has no address: ${why}`)));
      return sent;
    }
    const method = rq.method ?? '';
    // RFC 3261 §15.1.1: whatever the BYE's outcome (a final response, 408/481, none), the dialog is
    // over and no further request of this Call-ID follows: its affinity is forgotten then
    const ends = method === 'BYE';
    const attempt = (i: number): void => {
      const to = list[i] as Peer;
      const last = i + 1 >= list.length;
      let progressed = false;
      let branch = '';
      const forget = (): void => {
        if (this.inviteTargets.get(branch) === to) this.inviteTargets.delete(branch);
      };
      const next = (why: string): void => {
        forget();
        this.logger.warn(
          { callId: rq.headers['call-id'], method, from: `${to.address}:${to.port}`, to: `${list[i + 1]?.address ?? ''}:${list[i + 1]?.port ?? ''}`, why },
          'SIP request sent to the next outbound target (RFC 3263 §4.3)',
        );
        attempt(i + 1);
        h.onRetarget?.({ ...sent });
      };
      // a copy per attempt: the earlier transaction keeps its own Via (ACK of its 503, retransmissions)
      const copy: SipMessage = { ...rq, headers: { ...rq.headers } };
      const s = this.send(
        copy,
        {
          onResponse: (rs) => {
            const status = rs.status ?? 0;
            this.targets.reportAlive(to);
            if (status > 100 && status < 200) progressed = true;
            // RFC 3263 §4.3 / RFC 3261 §21.5.4: a 503 before the request went anywhere: the next target
            if (status === 503 && !progressed) {
              this.targets.reportFailure(to, 'unavailable', '503 Service Unavailable', retryAfterMs(rs));
              if (!last) return next('503');
            }
            if (status >= 200) forget();
            // a 401/407 is retried with credentials (RFC 3261 §22.2) on the same target: kept until then
            if (ends && status >= 200 && status !== 401 && status !== 407) this.affinity.forget(callId);
            else if (status !== 503) this.affinity.remember(callId, to);
            h.onResponse(rs);
          },
          onTimeout: () => {
            if (!progressed) this.targets.reportFailure(to, 'timeout', `${method} timed out (Timer ${method === 'INVITE' ? 'B' : 'F'})`);
            if (!last && !progressed) return next('timeout');
            forget();
            if (ends) this.affinity.forget(callId);
            h.onTimeout();
          },
          onTransportError: (err) => {
            this.targets.reportFailure(to, 'transport', err.message);
            if (!last && !progressed) return next('transport');
            forget();
            if (ends) this.affinity.forget(callId);
            h.onTransportError(err);
          },
        },
        { ...opts, to },
      );
      branch = s.branch;
      sent.branch = s.branch;
      sent.via = s.via;
      if (method === 'INVITE') this.inviteTargets.set(branch, to);
    };
    attempt(0);
    return sent;
  }
}

/** Retry-After of a 503, in ms (0 when absent or unusable), capped. */
function retryAfterMs(rs: SipMessage): number {
  const raw: unknown = rs.headers['retry-after'];
  const text = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : '';
  const m = /^\s*(\d{1,9})/.exec(text);
  return m?.[1] ? Math.min(Number(m[1]), MAX_RETRY_AFTER_S) * 1000 : 0;
}

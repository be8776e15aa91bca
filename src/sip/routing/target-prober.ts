import type { SipMessage } from 'sip';
import type { Logger } from 'pino';
import { generateCallId, generateTag } from '../sip-syntax';
import type { ClientHandlers, SendOptions, SentRequest } from '../transactions/client-transactions';
import type { Peer } from '../transport';
import { OutboundTargets, peerKey } from './outbound-targets';

/** An OPTIONS request (RFC 3261 §11) to `uri`, from the gateway's own identity in `domain`. */
export function optionsRequest(uri: string, domain: string): SipMessage {
  return {
    method: 'OPTIONS',
    uri,
    headers: {
      to: { uri, params: {} },
      from: { uri: `sip:gateway@${domain}`, params: { tag: generateTag() } },
      'call-id': generateCallId(),
      cseq: { seq: 1, method: 'OPTIONS' },
      'max-forwards': 70,
      accept: 'application/sdp',
    },
  };
}

type Send = (rq: SipMessage, h: ClientHandlers, opts: SendOptions) => SentRequest;

/**
 * Sends OPTIONS to every outbound target every `intervalMs` (at most one in flight per target), so
 * that a down target is noticed answering again and the backup ones are known alive before they
 * are needed. Any response means "up" (RFC 3263 §4.3 counts only timeouts, transport failures and
 * 503 as failures); a target kept out by a 503 Retry-After comes back only once that has passed.
 */
export class TargetProber {
  private timer: NodeJS.Timeout | undefined;
  /** At most one OPTIONS in flight per target; `pingAny` shares them. */
  private readonly inFlight = new Map<string, Promise<number>>();

  constructor(
    private readonly targets: OutboundTargets,
    private readonly send: Send,
    private readonly domain: string,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.probeAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One round: an OPTIONS to each target that has none pending. A lone target is not probed: there
   * is nothing to choose between, and the readiness OPTIONS (SipProxyProbe → ping) keeps its state.
   */
  probeAll(): void {
    const peers = this.targets.peers();
    if (peers.length < 2) return;
    for (const peer of peers) this.probe(peer).catch(() => undefined);
  }

  /**
   * Readiness with several targets: OPTIONS to each (sharing those in flight); resolves with the
   * status of the first final answer, rejects when no target answers. A dead primary does not make
   * the gateway unready while another P-CSCF answers.
   */
  async pingAny(): Promise<number> {
    const peers = this.targets.peers();
    if (peers.length === 0) throw new Error('the outbound proxy has no address');
    try {
      return await Promise.any(peers.map((p) => this.probe(p)));
    } catch (err) {
      const reasons = err instanceof AggregateError ? err.errors.map((e) => (e instanceof Error ? e.message : String(e))) : [String(err)];
      throw new Error(`no outbound proxy target answered OPTIONS (${[...new Set(reasons)].join('; ')})`, { cause: err });
    }
  }

  /** OPTIONS to one target: the final answer's status (503 included: the target is alive), or a rejection on timeout/transport error. */
  private probe(peer: Peer): Promise<number> {
    const key = peerKey(peer);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const result = new Promise<number>((resolve, reject) => {
      const handlers: ClientHandlers = {
        onResponse: (rs) => {
          const status = rs.status ?? 0;
          if (status < 200) return;
          if (status === 503) this.targets.reportFailure(peer, 'unavailable', '503 Service Unavailable to OPTIONS');
          else this.targets.reportAlive(peer);
          resolve(status);
        },
        onTimeout: () => {
          this.targets.reportFailure(peer, 'timeout', 'OPTIONS timed out');
          reject(new Error(`${key}: OPTIONS timed out`));
        },
        onTransportError: (err) => {
          this.targets.reportFailure(peer, 'transport', `OPTIONS could not be sent: ${err.message}`);
          reject(new Error(`${key}: ${err.message}`));
        },
      };
      try {
        this.send(optionsRequest(`sip:${key}`, this.domain), handlers, { to: peer });
      } catch (err) {
        this.logger.warn({ err, target: key }, 'SIP OPTIONS probe could not be sent');
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    }).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, result);
    return result;
  }
}

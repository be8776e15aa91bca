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
  private readonly inFlight = new Set<string>();

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
    for (const peer of peers) this.probe(peer);
  }

  private probe(peer: Peer): void {
    const key = peerKey(peer);
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    const done = (): boolean => this.inFlight.delete(key);
    try {
      this.send(
        optionsRequest(`sip:${key}`, this.domain),
        {
          onResponse: (rs) => {
            if ((rs.status ?? 0) < 200) return;
            done();
            if (rs.status === 503) return this.targets.reportFailure(peer, 'unavailable', '503 Service Unavailable to OPTIONS');
            this.targets.reportAlive(peer);
          },
          onTimeout: () => {
            done();
            this.targets.reportFailure(peer, 'timeout', 'OPTIONS timed out');
          },
          onTransportError: (err) => {
            done();
            this.targets.reportFailure(peer, 'transport', `OPTIONS could not be sent: ${err.message}`);
          },
        },
        { to: peer },
      );
    } catch (err) {
      done();
      this.logger.warn({ err, target: key }, 'SIP OPTIONS probe could not be sent');
    }
  }
}

import type { SipMessage } from 'sip';
import * as sip from 'sip';
import type { Logger } from 'pino';
import { EdgeRefusalLog } from './malformed-log';
import { redactSecrets } from './redaction';
import { headerString } from './sip-syntax';
import { DEFAULT_TIMERS, SipTimers } from './sip-timers';
import { bareHost } from './syntax/sip-uri';
import { DEFAULT_TRANSPORT_LIMITS, Inbound, isStream, Peer, SipProtocol, SipTransport, TransportLimits, TransportTls } from './transport';
import { TrustEntry, TrustedPeers } from './trusted-peers';
import { decodeSip, describeRaw, encodeMessage } from './wire';
import type { SipRefusalReason, SipTelemetry } from './sip-telemetry';
import { ClientHandlers, ClientTransactions, SendOptions, SentRequest } from './transactions/client-transactions';
import { ServerTransaction, ServerTransactions, StackHandlers } from './transactions/server-transactions';
import type { TransactionIo } from './transactions/transaction-io';
import { newVia, responseTarget, stampReceived } from './transactions/via';
import { FailoverSender } from './routing/failover';
import type { OutboundTargets } from './routing/outbound-targets';

export type { SipTimers } from './sip-timers';
export { DEFAULT_TIMERS } from './sip-timers';
export type { ClientHandlers, SendOptions, SentRequest } from './transactions/client-transactions';
export type { ServerTransaction, StackHandlers } from './transactions/server-transactions';
export { parseVia, viaText } from './transactions/via';

/**
 * The SIP stack of one gateway instance: one socket, the transaction layer (RFC 3261 §17, with the
 * RFC 6026 "Accepted" states, in transactions/) and message logging. Parsing and serialising come
 * from kirm's `sip` package; its own `create()/send()` is not used because:
 *  - `send()` picks the destination from Route/R-URI and silently drops a Route whose host equals
 *    its own (publicAddress): with the proxy and our advertised address both 127.0.0.1, REGISTER
 *    would be sent to `sip:ims.lab` via DNS. We send every request to the outbound proxy
 *    explicitly (RFC 3261 §8.1.2) and keep Route headers for what they are (the dialog route set);
 *  - its branches are weak (~20 bits) and overwritten on every client transaction;
 *  - its Timer B/F are fixed (32 s), its transports have no 'error' listener (a bind failure or a
 *    socket error throws from an event emitter and kills the process) and UDP send errors are lost;
 *  - it does not retransmit 2xx responses (RFC 3261 §13.3.1.4) nor keep 2xx for the UAC TU.
 */

export interface SipStackOptions {
  protocol: SipProtocol;
  listenAddress: string;
  listenPort: number;
  /** Host written in Via (and by the TU in Contact). */
  advertisedHost: string;
  outboundProxy: Peer;
  /** RFC 3263 targets of the outbound proxy: when set, requests go to them in turn (routing/failover.ts) instead of `outboundProxy`. */
  targets?: OutboundTargets;
  timers?: Partial<SipTimers>;
  /** Counts messages, retransmissions, timeouts and transport errors (monitoring). */
  telemetry?: SipTelemetry;
  /** RFC 3325 trust domain: requests from anyone else are refused. Default: the outbound proxy's address and port. */
  trustedPeers?: readonly TrustEntry[];
  /** `reject`: 403 to untrusted requests; `drop`: silence (default reject). */
  untrustedPolicy?: 'reject' | 'drop';
  limits?: Partial<TransportLimits>;
  /** Certificates and peer names of `protocol: 'TLS'`. */
  tls?: TransportTls;
}

export class SipStack {
  readonly timers: SipTimers;
  private readonly transport: SipTransport;
  private readonly clients: ClientTransactions;
  private readonly servers: ServerTransactions;
  private readonly reliable: boolean;
  private readonly limits: TransportLimits;
  private readonly malformedLog: EdgeRefusalLog;
  private readonly untrustedLog: EdgeRefusalLog;
  private readonly tcpLog: EdgeRefusalLog;
  private readonly tlsLog: EdgeRefusalLog;
  private trusted?: TrustedPeers;
  private defaultTrust?: { peers: readonly Peer[]; trust: TrustedPeers };
  private readonly failover?: FailoverSender;
  private readonly proxyPeers: readonly Peer[];
  private closed = false;

  constructor(
    readonly options: SipStackOptions,
    private readonly logger: Logger,
  ) {
    this.timers = { ...DEFAULT_TIMERS, ...options.timers };
    this.reliable = isStream(options.protocol);
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...options.limits };
    this.malformedLog = new EdgeRefusalLog(logger, 'malformed SIP message refused');
    this.untrustedLog = new EdgeRefusalLog(logger, 'SIP request from an untrusted peer refused (RFC 3325 trust domain)');
    this.tcpLog = new EdgeRefusalLog(logger, 'SIP/TCP connection closed by a limit');
    this.tlsLog = new EdgeRefusalLog(logger, 'SIP/TLS handshake of a connecting peer failed');
    this.transport = new SipTransport(
      options.protocol,
      options.listenAddress,
      options.listenPort,
      {
        onMessage: (raw, from) => this.receive(raw, from),
        onWarn: (msg, err) => this.logger.warn({ err }, msg),
        onConnectionRefused: (reason, peer) => {
          this.refused(`tcp-${reason}`);
          this.tcpLog.record(peer, reason);
        },
        onTlsClientError: (peer, reason) => {
          this.options.telemetry?.sipTransportError('connection');
          this.tlsLog.record(peer, reason);
        },
      },
      this.limits,
      options.tls,
    );
    const io: TransactionIo = {
      timers: this.timers,
      reliable: this.reliable,
      logger,
      transmit: (wire, to, m, onError, retransmission) => this.transmit(wire, to, m, onError, retransmission),
      safe: (fn, what) => this.safe(fn, what),
      countTimeout: (method) => this.options.telemetry?.sipTransactionTimeout(method),
    };
    this.proxyPeers = [options.outboundProxy];
    // the destination is chosen at send time: the RFC 3263 targets change with DNS and failures
    const side = { protocol: options.protocol, advertisedHost: options.advertisedHost, listenPort: options.listenPort };
    this.clients = new ClientTransactions(io, {
      ...side,
      get outboundProxy(): Peer {
        return options.targets?.primary() ?? options.outboundProxy;
      },
    });
    this.servers = new ServerTransactions(io);
    if (options.targets) this.failover = new FailoverSender((rq, h, opts) => this.clients.send(rq, h, opts), options.targets, logger);
  }

  get protocol(): SipProtocol {
    return this.options.protocol;
  }

  get listening(): boolean {
    return this.transport.listening;
  }

  async start(handlers: StackHandlers): Promise<void> {
    this.trusted = this.options.trustedPeers?.length ? await TrustedPeers.resolve(this.options.trustedPeers) : undefined;
    this.logger.info({ trustedPeers: (this.trusted ?? this.outboundTrust()).describe(), untrustedPolicy: this.options.untrustedPolicy ?? 'reject' }, 'SIP trust domain');
    this.servers.setHandlers(handlers);
    await this.transport.listen();
  }

  /** Idempotent: stops every timer and closes the socket. No callbacks fire afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clients.close();
    this.servers.close();
    await this.transport.close();
  }

  /** RFC 3261 §15.1.2: the far end's BYE ended the dialog of `callId`; what was kept for our requests in it goes. */
  dialogEnded(callId: string): void {
    this.failover?.forgetCallId(callId);
  }

  /**
   * Starts a client transaction (RFC 3261 §17.1). Writes our Via with a fresh strong branch (or the
   * given verbatim Via for CANCEL) and sends to the outbound proxy unless `opts.to` is given.
   */
  sendRequest(rq: SipMessage, h: ClientHandlers, opts: SendOptions = {}): SentRequest {
    return this.failover ? this.failover.sendRequest(rq, h, opts) : this.clients.send(rq, h, opts);
  }

  /** Out-of-transaction send (the ACK for a 2xx, RFC 3261 §13.2.2.4). Returns the bytes for re-sending. */
  sendStateless(m: SipMessage, to: Peer = this.failover?.destinationOf(m) ?? this.outboundProxy): Buffer {
    if (m.method !== undefined && !m.headers.via?.length) {
      m.headers.via = [newVia(this.options.protocol, this.options.advertisedHost, this.options.listenPort)];
    }
    const wire = encodeMessage(m);
    this.transmit(wire, to, m);
    return wire;
  }

  /** Re-sends bytes produced by sendStateless (ACK for a retransmitted 2xx). */
  resend(wire: Buffer, m: SipMessage, to: Peer = this.failover?.destinationOf(m) ?? this.outboundProxy): void {
    this.transmit(wire, to, m);
  }

  /**
   * Sends a response within a server transaction. Returns false (and sends nothing) when the
   * transaction already has a final response or is gone.
   */
  respond(stx: ServerTransaction, rs: SipMessage): boolean {
    return this.servers.respond(stx, rs);
  }

  /** A live server transaction by its opaque id. */
  findServer(id: string): ServerTransaction | undefined {
    return this.servers.findById(id);
  }

  /** The INVITE server transaction a CANCEL refers to (RFC 3261 §9.2: same branch and sent-by). */
  findInvite(cancel: SipMessage): ServerTransaction | undefined {
    return this.servers.findInvite(cancel);
  }

  // ---------------------------------------------------------------- I/O

  private receive(raw: Buffer, from: Inbound): void {
    if (this.closed) return;
    const peer = `${from.address}:${from.port}`;
    const d = decodeSip(raw, { maxMessageBytes: this.limits.maxMessageBytes, stream: isStream(from.protocol) });
    // RFC 3325 §2.3: requests only from the trust domain; responses are matched by our 128-bit branches
    const trusted = (this.trusted ?? this.outboundTrust()).isTrusted(from);
    if (d.kind === 'discard') {
      // not a request we could answer (or a response: RFC 3261 §18.1.2 discards it silently)
      if (raw.length <= 4) return;
      this.refused('malformed');
      this.options.telemetry?.sipTransportError('parse');
      this.malformedLog.record(peer, `${d.reason}: ${describeRaw(raw)}`, raw);
      return;
    }
    if (d.kind === 'bad-request') {
      this.refused(d.status === 505 ? 'version' : 'malformed');
      this.options.telemetry?.sipTransportError('parse');
      this.malformedLog.record(peer, `${d.status} ${d.reason}: ${describeRaw(raw)}`, raw);
      // RFC 3261 §8.2.2 / §21.5.6: answer 400 or 505 (never an ACK); untrusted peers under `drop` get nothing
      if (d.method === 'ACK' || (!trusted && this.options.untrustedPolicy === 'drop')) return;
      this.transport.send(d.response, responseTarget(d.topVia, from), () => this.options.telemetry?.sipTransportError('send'));
      return;
    }
    const m = d.message;
    if (m.method !== undefined) {
      if (!trusted) return this.refuseUntrusted(m, from, peer);
      stampReceived(m, from); // RFC 3581 §4 / RFC 3261 §18.2.1
      const via = m.headers.via?.[0];
      // RFC 5923 §5: the sender offers this connection for our requests to its sent-by
      if (via && 'alias' in via.params && from.protocol === 'TLS') this.transport.alias(from, bareHost(via.host), via.port ?? 5061);
    }
    this.log('recv', raw, m, from);
    this.count('in', m);
    try {
      if (m.method !== undefined) this.servers.onRequest(m, responseTarget(m.headers.via?.[0], from));
      else this.clients.onResponse(m);
    } catch (err) {
      // a bug or a hostile message must never take the process down
      this.logger.warn({ err, callId: m.headers['call-id'] }, 'error while handling a SIP message');
      if (m.method !== undefined && m.method !== 'ACK') this.answerStateless(m, from, 400, 'Bad Request');
    }
  }

  /** RFC 3325 §2.3: outside the trust domain: 403 (policy `reject`) or nothing (`drop`); never to an ACK. */
  private refuseUntrusted(m: SipMessage, from: Inbound, peer: string): void {
    this.refused('untrusted');
    this.untrustedLog.record(peer, `${m.method ?? ''} ${headerString(m.headers['call-id']) ?? ''}`);
    if (this.options.untrustedPolicy === 'drop' || m.method === 'ACK') return;
    stampReceived(m, from);
    this.answerStateless(m, from, 403, 'Forbidden');
  }

  /** Where a request without a destination goes: the first RFC 3263 target, else the configured proxy. */
  private get outboundProxy(): Peer {
    return this.options.targets?.primary() ?? this.options.outboundProxy;
  }

  /** The default trust domain: every address the outbound proxy resolves to (rebuilt when DNS changes it). */
  private outboundTrust(): TrustedPeers {
    const peers = this.options.targets?.peers() ?? this.proxyPeers;
    if (this.defaultTrust?.peers !== peers) this.defaultTrust = { peers, trust: TrustedPeers.of(peers) };
    return this.defaultTrust.trust;
  }

  private refused(reason: SipRefusalReason): void {
    this.options.telemetry?.sipRefused(reason);
  }

  private answerStateless(rq: SipMessage, from: Inbound, status: number, reason: string): void {
    try {
      const rs = sip.makeResponse(rq, status, reason);
      this.transmit(encodeMessage(rs), responseTarget(rq.headers.via?.[0], from), rs);
    } catch {
      // nothing sane to answer
    }
  }

  private transmit(wire: Buffer, to: Peer | Inbound, m: SipMessage, onError?: (err: Error) => void, retransmission = false): void {
    this.log('send', wire, m, to);
    this.count('out', m, retransmission);
    this.transport.send(wire, to, (err) => {
      this.options.telemetry?.sipTransportError('send');
      this.logger.warn({ err, callId: m.headers['call-id'], to: `${to.address}:${to.port}` }, 'SIP send failed');
      onError?.(err);
    });
  }

  private count(direction: 'in' | 'out', m: SipMessage, retransmission = false): void {
    const t = this.options.telemetry;
    if (!t) return;
    const method = m.method ?? headerString(m.headers.cseq?.method) ?? 'unknown';
    if (retransmission) t.sipRetransmission(method);
    else t.sipMessage(direction, method, m.status);
  }

  private log(dir: 'send' | 'recv', wire: Buffer, m: SipMessage, peer: Peer): void {
    if (!this.logger.isLevelEnabled('debug')) return;
    this.logger.debug(
      {
        dir,
        callId: m.headers['call-id'],
        ...(m.method !== undefined ? { method: m.method } : { status: m.status, cseq: headerString(m.headers.cseq?.method) }),
        peer: `${peer.address}:${peer.port}`,
        sip: redactSecrets(wire.toString('utf8')),
      },
      dir === 'send' ? 'SIP sent' : 'SIP received',
    );
  }

  private safe(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.logger.warn({ err }, `SIP listener ${what} threw`);
    }
  }
}

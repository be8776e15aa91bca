import { randomUUID } from 'node:crypto';
import type { SipMessage, SipVia } from 'sip';
import * as sip from 'sip';
import type { Logger } from 'pino';
import { redactSecrets } from './redaction';
import { generateBranch, headerString } from './sip-syntax';
import { Inbound, Peer, SipProtocol, SipTransport } from './transport';
import { decodeMessage, describeRaw, encodeMessage } from './wire';
import type { SipTelemetry } from './sip-telemetry';

/**
 * The SIP stack of one gateway instance: one socket, the transaction layer (RFC 3261 §17, with the
 * RFC 6026 "Accepted" states) and message logging. Parsing and serialising come from kirm's `sip`
 * package; its own `create()/send()` is not used because:
 *  - `send()` picks the destination from Route/R-URI and silently drops a Route whose host equals
 *    its own (publicAddress): with the proxy and our advertised address both 127.0.0.1, REGISTER
 *    would be sent to `sip:ims.lab` via DNS. We send every request to the outbound proxy
 *    explicitly (RFC 3261 §8.1.2) and keep Route headers for what they are (the dialog route set);
 *  - its branches are weak (~20 bits) and overwritten on every client transaction;
 *  - its Timer B/F are fixed (32 s), its transports have no 'error' listener (a bind failure or a
 *    socket error throws from an event emitter and kills the process) and UDP send errors are lost;
 *  - it does not retransmit 2xx responses (RFC 3261 §13.3.1.4) nor keep 2xx for the UAC TU.
 */

export interface SipTimers {
  /** RFC 3261 §17.1.1.1 T1 (RTT estimate), T2 (max non-INVITE retransmit interval), T4 (max message lifetime). */
  t1: number;
  t2: number;
  t4: number;
  /** Timer B / Timer F (64*T1 = 32 s by RFC 3261); injectable so tests can fail fast. */
  transactionTimeoutMs: number;
  /** Guard for an INVITE client transaction stuck in Proceeding (no final answer, CANCEL lost). */
  maxInviteMs: number;
  /** A received INVITE nobody answered finally within this time gets 480 (safety net). */
  uasInviteGuardMs: number;
  /** A received non-INVITE nobody answered within this time gets 500. */
  uasNonInviteGuardMs: number;
}

export const DEFAULT_TIMERS: SipTimers = {
  t1: 500,
  t2: 4000,
  t4: 5000,
  transactionTimeoutMs: 32_000,
  maxInviteMs: 300_000,
  uasInviteGuardMs: 185_000,
  uasNonInviteGuardMs: 5_000,
};

export interface ClientHandlers {
  /** Every response the TU must see: 1xx, the final, and every 2xx of an INVITE (forks, retransmissions). */
  onResponse(rs: SipMessage): void;
  onTimeout(): void;
  onTransportError(err: Error): void;
}

type ClientState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';
type ServerState = 'proceeding' | 'completed' | 'accepted' | 'confirmed' | 'terminated';

interface ClientTx {
  key: string;
  invite: boolean;
  rq: SipMessage;
  wire: Buffer;
  h: ClientHandlers;
  to: Peer;
  state: ClientState;
  retransmit?: NodeJS.Timeout;
  timeout?: NodeJS.Timeout;
  ack?: Buffer;
}

/** A request received from the network, waiting for (or holding) our response. */
export interface ServerTransaction {
  /** Opaque id handed to the application (IncomingCall.transactionKey). */
  readonly id: string;
  readonly key: string;
  readonly request: SipMessage;
  readonly source: Inbound;
  readonly invite: boolean;
  state: ServerState;
  finalStatus?: number;
  /** Set when a 2xx to an INVITE was sent: our To tag. */
  localTag?: string;
}

interface ServerTx extends ServerTransaction {
  last?: Buffer;
  retransmit?: NodeJS.Timeout;
  timeout?: NodeJS.Timeout;
  guard?: NodeJS.Timeout;
  pending2xxKey?: string;
}

export interface StackHandlers {
  /** A new request (not ACK, not a retransmission). 100 Trying was already sent for INVITE. */
  onRequest(rq: SipMessage, tx: ServerTransaction): void;
  /** An ACK outside any transaction: the ACK for a 2xx (`matched` when it stopped our 2xx retransmissions). */
  onAck(rq: SipMessage, matched: boolean): void;
  /** RFC 3261 §13.3.1.4: no ACK for our 2xx within 64*T1. */
  on2xxTimeout(callId: string, localTag: string): void;
}

export interface SipStackOptions {
  protocol: SipProtocol;
  listenAddress: string;
  listenPort: number;
  /** Host written in Via (and by the TU in Contact). */
  advertisedHost: string;
  outboundProxy: Peer;
  timers?: Partial<SipTimers>;
  /** Counts messages, retransmissions, timeouts and transport errors (monitoring). */
  telemetry?: SipTelemetry;
}

export interface SendOptions {
  /** Verbatim top Via to use (CANCEL must repeat the INVITE's, RFC 3261 §9.1). */
  via?: string;
  /** Destination; default: the outbound proxy. */
  to?: Peer;
}

export interface SentRequest {
  branch: string;
  /** The Via we wrote, as text (stored with the dialog for a later CANCEL). */
  via: string;
}

const VIA_RE = /^SIP\s*\/\s*(\d+\.\d+)\s*\/\s*(\S+)\s+([^\s;:]+)(?:\s*:\s*(\d+))?\s*((?:;.*)?)$/i;

/** Parses one Via value (our own, stored as text) into the package's shape. */
export function parseVia(text: string): SipVia | undefined {
  const m = VIA_RE.exec(text.trim());
  if (!m || !m[2] || !m[3]) return undefined;
  const params: Record<string, string | null> = {};
  for (const p of (m[5] ?? '').split(';')) {
    if (!p.trim()) continue;
    const eq = p.indexOf('=');
    if (eq < 0) params[p.trim().toLowerCase()] = null;
    else params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
  }
  return { version: m[1], protocol: m[2], host: m[3], port: m[4] ? Number(m[4]) : undefined, params };
}

export function viaText(via: SipVia): string {
  let s = `SIP/2.0/${via.protocol.toUpperCase()} ${via.host}${via.port ? `:${via.port}` : ''}`;
  for (const [k, v] of Object.entries(via.params)) s += v === null || v === undefined ? `;${k}` : `;${k}=${String(v)}`;
  return s;
}

function branchOf(m: SipMessage): string {
  const b = m.headers.via?.[0]?.params.branch;
  return typeof b === 'string' ? b : '';
}

function sentBy(m: SipMessage): string {
  const v = m.headers.via?.[0];
  return v ? `${v.host}:${v.port ?? ''}` : '';
}

function toTagOf(m: SipMessage): string | undefined {
  const t = m.headers.to?.params.tag;
  return typeof t === 'string' && t !== '' ? t : undefined;
}

export class SipStack {
  readonly timers: SipTimers;
  private readonly transport: SipTransport;
  private readonly clients = new Map<string, ClientTx>();
  private readonly servers = new Map<string, ServerTx>();
  private readonly serversById = new Map<string, ServerTx>();
  /** `${callId}|${localTag}` -> INVITE server transaction whose 2xx is retransmitted until the ACK. */
  private readonly pending2xx = new Map<string, ServerTx>();
  private readonly reliable: boolean;
  private handlers?: StackHandlers;
  private closed = false;

  constructor(
    readonly options: SipStackOptions,
    private readonly logger: Logger,
  ) {
    this.timers = { ...DEFAULT_TIMERS, ...options.timers };
    this.reliable = options.protocol !== 'UDP';
    this.transport = new SipTransport(options.protocol, options.listenAddress, options.listenPort, {
      onMessage: (raw, from) => this.receive(raw, from),
      onWarn: (msg, err) => this.logger.warn({ err }, msg),
    });
  }

  get protocol(): SipProtocol {
    return this.options.protocol;
  }

  get listening(): boolean {
    return this.transport.listening;
  }

  async start(handlers: StackHandlers): Promise<void> {
    this.handlers = handlers;
    await this.transport.listen();
  }

  /** Idempotent: stops every timer and closes the socket. No callbacks fire afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const tx of this.clients.values()) this.clearClient(tx);
    for (const tx of this.servers.values()) this.clearServer(tx);
    this.clients.clear();
    this.servers.clear();
    this.serversById.clear();
    this.pending2xx.clear();
    await this.transport.close();
  }

  // ---------------------------------------------------------------- client side

  /**
   * Starts a client transaction (RFC 3261 §17.1). Writes our Via with a fresh strong branch (or the
   * given verbatim Via for CANCEL) and sends to the outbound proxy unless `opts.to` is given.
   */
  sendRequest(rq: SipMessage, h: ClientHandlers, opts: SendOptions = {}): SentRequest {
    const method = rq.method ?? '';
    let via: SipVia | undefined;
    if (opts.via !== undefined) via = parseVia(opts.via);
    via ??= {
      version: '2.0',
      protocol: this.options.protocol,
      host: this.options.advertisedHost,
      port: this.options.listenPort,
      // RFC 3581: ask for responses to the source port
      params: { branch: generateBranch(), ...(this.reliable ? {} : { rport: null }) },
    };
    rq.headers.via = [via];
    const branch = typeof via.params.branch === 'string' ? via.params.branch : '';
    const tx: ClientTx = {
      key: `${branch}|${method}`,
      invite: method === 'INVITE',
      rq,
      wire: encodeMessage(rq),
      h,
      to: opts.to ?? this.options.outboundProxy,
      state: 'calling',
    };
    if (this.closed) {
      queueMicrotask(() => h.onTransportError(new Error('SIP stack closed')));
      return { branch, via: viaText(via) };
    }
    this.clients.set(tx.key, tx);
    this.transmit(tx.wire, tx.to, rq, (err) => this.clientTransportError(tx, err));
    if (!this.reliable) this.scheduleClientRetransmit(tx, this.timers.t1);
    tx.timeout = setTimeout(() => this.clientTimeout(tx), this.timers.transactionTimeoutMs);
    return { branch, via: viaText(via) };
  }

  /** Out-of-transaction send (the ACK for a 2xx, RFC 3261 §13.2.2.4). Returns the bytes for re-sending. */
  sendStateless(m: SipMessage, to: Peer = this.options.outboundProxy): Buffer {
    if (m.method !== undefined && !m.headers.via?.length) {
      m.headers.via = [
        {
          version: '2.0',
          protocol: this.options.protocol,
          host: this.options.advertisedHost,
          port: this.options.listenPort,
          params: { branch: generateBranch(), ...(this.reliable ? {} : { rport: null }) },
        },
      ];
    }
    const wire = encodeMessage(m);
    this.transmit(wire, to, m);
    return wire;
  }

  /** Re-sends bytes produced by sendStateless (ACK for a retransmitted 2xx). */
  resend(wire: Buffer, m: SipMessage, to: Peer = this.options.outboundProxy): void {
    this.transmit(wire, to, m);
  }

  private scheduleClientRetransmit(tx: ClientTx, interval: number): void {
    tx.retransmit = setTimeout(() => {
      if (tx.state !== 'calling' && !(tx.state === 'proceeding' && !tx.invite)) return;
      this.transmit(tx.wire, tx.to, tx.rq, (err) => this.clientTransportError(tx, err), true);
      // Timer A doubles without cap (§17.1.1.2); Timer E is capped at T2 (§17.1.2.2)
      const next = tx.invite ? interval * 2 : Math.min(interval * 2, this.timers.t2);
      this.scheduleClientRetransmit(tx, next);
    }, interval);
  }

  private clientTimeout(tx: ClientTx): void {
    if (tx.state === 'terminated') return;
    this.options.telemetry?.sipTransactionTimeout(tx.rq.method ?? 'unknown');
    this.terminateClient(tx);
    this.safe(() => tx.h.onTimeout(), 'onTimeout');
  }

  private clientTransportError(tx: ClientTx, err: Error): void {
    // §17.1.4: a transport failure in Calling/Trying/Proceeding is reported to the TU
    if (tx.state !== 'calling' && tx.state !== 'proceeding') return;
    this.terminateClient(tx);
    this.safe(() => tx.h.onTransportError(err), 'onTransportError');
  }

  private clearClient(tx: ClientTx): void {
    clearTimeout(tx.retransmit);
    clearTimeout(tx.timeout);
    tx.retransmit = undefined;
    tx.timeout = undefined;
  }

  private terminateClient(tx: ClientTx): void {
    this.clearClient(tx);
    tx.state = 'terminated';
    if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
  }

  /** Lingers in Completed/Accepted for `ms` to absorb retransmissions, then terminates. */
  private lingerClient(tx: ClientTx, ms: number): void {
    this.clearClient(tx);
    if (ms <= 0) return this.terminateClient(tx);
    tx.timeout = setTimeout(() => this.terminateClient(tx), ms);
  }

  private onResponse(rs: SipMessage): void {
    const key = `${branchOf(rs)}|${rs.headers.cseq?.method ?? ''}`;
    const tx = this.clients.get(key);
    const status = rs.status ?? 0;
    if (!tx) {
      this.logger.debug({ callId: rs.headers['call-id'], status }, 'SIP response matches no transaction; dropped');
      return;
    }
    if (tx.invite) {
      if (status < 200) {
        if (tx.state !== 'calling' && tx.state !== 'proceeding') return; // late 1xx after a final: nothing to do
        if (tx.state === 'calling') {
          tx.state = 'proceeding';
          this.clearClient(tx);
          // Proceeding has no timer in RFC 3261; guard against a lost final answer
          tx.timeout = setTimeout(() => this.clientTimeout(tx), this.timers.maxInviteMs);
        }
        this.safe(() => tx.h.onResponse(rs), 'onResponse');
      } else if (status < 300) {
        // RFC 6026 §7.2 Accepted: every 2xx (forks, retransmissions) goes to the TU, which ACKs it
        if (tx.state === 'completed' || tx.state === 'terminated') return;
        if (tx.state !== 'accepted') {
          tx.state = 'accepted';
          this.lingerClient(tx, 64 * this.timers.t1); // Timer M
        }
        this.safe(() => tx.h.onResponse(rs), 'onResponse');
      } else if (tx.state === 'calling' || tx.state === 'proceeding') {
        // §17.1.1.3: ACK for a non-2xx final is generated by the transaction, same branch
        tx.ack = encodeMessage(this.nonSuccessAck(tx.rq, rs));
        this.transmit(tx.ack, tx.to, rs);
        tx.state = 'completed';
        this.lingerClient(tx, this.reliable ? 0 : 64 * this.timers.t1); // Timer D
        this.safe(() => tx.h.onResponse(rs), 'onResponse');
      } else if (tx.state === 'completed' && tx.ack) {
        this.transmit(tx.ack, tx.to, rs, undefined, true); // retransmitted final: re-ACK, not passed up
      }
      return;
    }
    if (tx.state !== 'calling' && tx.state !== 'proceeding') return;
    if (status < 200) {
      tx.state = 'proceeding';
    } else {
      tx.state = 'completed';
      this.lingerClient(tx, this.reliable ? 0 : this.timers.t4); // Timer K
    }
    this.safe(() => tx.h.onResponse(rs), 'onResponse');
  }

  private nonSuccessAck(rq: SipMessage, rs: SipMessage): SipMessage {
    const headers: SipMessage['headers'] = {
      via: rq.headers.via,
      to: rs.headers.to,
      from: rq.headers.from,
      'call-id': rq.headers['call-id'],
      cseq: { seq: rq.headers.cseq?.seq ?? 0, method: 'ACK' },
      'max-forwards': 70,
    };
    if (rq.headers.route?.length) headers.route = rq.headers.route;
    return { method: 'ACK', uri: rq.uri, headers };
  }

  // ---------------------------------------------------------------- server side

  /**
   * Sends a response within a server transaction. Returns false (and sends nothing) when the
   * transaction already has a final response or is gone.
   */
  respond(stx: ServerTransaction, rs: SipMessage): boolean {
    const tx = this.servers.get(stx.key);
    if (!tx || tx !== stx || tx.state !== 'proceeding' || this.closed) return false;
    const status = rs.status ?? 0;
    const wire = encodeMessage(rs);
    tx.last = wire;
    this.transmit(wire, tx.source, rs);
    if (status < 200) return true;
    clearTimeout(tx.guard);
    tx.guard = undefined;
    tx.finalStatus = status;
    if (!tx.invite) {
      tx.state = 'completed';
      this.lingerServer(tx, this.reliable ? 0 : 64 * this.timers.t1); // Timer J
      return true;
    }
    if (status < 300) {
      // RFC 3261 §13.3.1.4: the UAS core retransmits the 2xx (T1 doubling up to T2) until the ACK,
      // for 64*T1; RFC 6026 §7.1 Accepted state absorbs INVITE retransmissions meanwhile.
      tx.state = 'accepted';
      tx.localTag = toTagOf(rs);
      tx.pending2xxKey = `${rs.headers['call-id'] ?? ''}|${tx.localTag ?? ''}`;
      this.pending2xx.set(tx.pending2xxKey, tx);
      const resend = (interval: number): void => {
        tx.retransmit = setTimeout(() => {
          this.transmit(wire, tx.source, rs, undefined, true);
          resend(Math.min(interval * 2, this.timers.t2));
        }, interval);
      };
      resend(this.timers.t1);
      tx.timeout = setTimeout(() => {
        const acked = tx.pending2xxKey === undefined;
        this.terminateServer(tx);
        if (!acked) this.safe(() => this.handlers?.on2xxTimeout(rs.headers['call-id'] ?? '', tx.localTag ?? ''), 'on2xxTimeout');
      }, 64 * this.timers.t1);
      return true;
    }
    // §17.2.1 Completed: Timer G retransmits (unreliable only), Timer H waits for the ACK
    tx.state = 'completed';
    if (!this.reliable) {
      const resend = (interval: number): void => {
        tx.retransmit = setTimeout(() => {
          this.transmit(wire, tx.source, rs, undefined, true);
          resend(Math.min(interval * 2, this.timers.t2));
        }, interval);
      };
      resend(this.timers.t1);
    }
    tx.timeout = setTimeout(() => this.terminateServer(tx), 64 * this.timers.t1);
    return true;
  }

  /** A live server transaction by its opaque id. */
  findServer(id: string): ServerTransaction | undefined {
    return this.serversById.get(id);
  }

  /** The INVITE server transaction a CANCEL refers to (RFC 3261 §9.2: same branch and sent-by). */
  findInvite(cancel: SipMessage): ServerTransaction | undefined {
    return this.servers.get(`${branchOf(cancel)}|${sentBy(cancel)}|INVITE`);
  }

  private lingerServer(tx: ServerTx, ms: number): void {
    clearTimeout(tx.retransmit);
    clearTimeout(tx.timeout);
    if (ms <= 0) return this.terminateServer(tx);
    tx.timeout = setTimeout(() => this.terminateServer(tx), ms);
  }

  private clearServer(tx: ServerTx): void {
    clearTimeout(tx.retransmit);
    clearTimeout(tx.timeout);
    clearTimeout(tx.guard);
  }

  private terminateServer(tx: ServerTx): void {
    this.clearServer(tx);
    tx.state = 'terminated';
    if (this.servers.get(tx.key) === tx) this.servers.delete(tx.key);
    this.serversById.delete(tx.id);
    if (tx.pending2xxKey && this.pending2xx.get(tx.pending2xxKey) === tx) this.pending2xx.delete(tx.pending2xxKey);
  }

  private onRequest(rq: SipMessage, source: Inbound): void {
    const method = rq.method ?? '';
    const key = `${branchOf(rq)}|${sentBy(rq)}|${method === 'ACK' ? 'INVITE' : method}`;
    const existing = this.servers.get(key);
    if (method === 'ACK') {
      if (existing && existing.state === 'completed') {
        // ACK for our non-2xx final (§17.2.1): Confirmed, Timer I
        existing.state = 'confirmed';
        this.lingerServer(existing, this.reliable ? 0 : this.timers.t4);
        return;
      }
      const k2 = `${rq.headers['call-id'] ?? ''}|${toTagOf(rq) ?? ''}`;
      const accepted = this.pending2xx.get(k2);
      if (accepted) {
        this.pending2xx.delete(k2);
        accepted.pending2xxKey = undefined;
        clearTimeout(accepted.retransmit);
        accepted.retransmit = undefined;
        accepted.state = 'confirmed';
      }
      this.safe(() => this.handlers?.onAck(rq, accepted !== undefined), 'onAck');
      return;
    }
    if (existing) {
      // retransmission: repeat the last response (if any); RFC 6026 absorbs it in Accepted
      if (existing.last && existing.state !== 'accepted') this.transmit(existing.last, source, rq, undefined, true);
      return;
    }
    const tx: ServerTx = { id: randomUUID(), key, request: rq, source, invite: method === 'INVITE', state: 'proceeding' };
    this.servers.set(key, tx);
    this.serversById.set(tx.id, tx);
    if (tx.invite) {
      // §17.2.1 / §8.2.6.1: 100 Trying straight away (stops the proxy's Timer A retransmissions)
      this.respond(tx, sip.makeResponse(rq, 100, 'Trying'));
    }
    const guardMs = tx.invite ? this.timers.uasInviteGuardMs : this.timers.uasNonInviteGuardMs;
    tx.guard = setTimeout(() => {
      tx.guard = undefined;
      if (tx.state !== 'proceeding') return;
      this.logger.warn({ callId: rq.headers['call-id'], method }, 'no final response from the application in time; answering');
      this.respond(tx, tx.invite ? sip.makeResponse(rq, 480, 'Temporarily Unavailable') : sip.makeResponse(rq, 500, 'Server Internal Error'));
    }, guardMs);
    if (!this.handlers) return;
    try {
      this.handlers.onRequest(rq, tx);
    } catch (err) {
      this.logger.warn({ err, callId: rq.headers['call-id'], method }, 'request handler threw; answering 500');
      this.respond(tx, sip.makeResponse(rq, 500, 'Server Internal Error'));
    }
  }

  // ---------------------------------------------------------------- I/O

  private receive(raw: Buffer, from: Inbound): void {
    if (this.closed) return;
    const m = decodeMessage(raw);
    if (!m) {
      if (raw.length > 4) {
        this.logger.warn({ from: `${from.address}:${from.port}`, firstLine: describeRaw(raw) }, 'malformed SIP message dropped');
        this.options.telemetry?.sipTransportError('parse');
        if (this.logger.isLevelEnabled('debug')) this.logger.debug({ sip: redactSecrets(raw.toString('utf8')) }, 'malformed SIP message');
      }
      return;
    }
    this.log('recv', raw, m, from);
    this.count('in', m);
    try {
      if (m.method !== undefined) this.onRequest(m, from);
      else this.onResponse(m);
    } catch (err) {
      // a bug or a hostile message must never take the process down
      this.logger.warn({ err, callId: m.headers['call-id'] }, 'error while handling a SIP message');
      if (m.method !== undefined && m.method !== 'ACK') this.answer400(m, from);
    }
  }

  private answer400(rq: SipMessage, from: Inbound): void {
    try {
      const rs = sip.makeResponse(rq, 400, 'Bad Request');
      this.transmit(encodeMessage(rs), from, rs);
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

import { randomUUID } from 'node:crypto';
import type { SipMessage } from 'sip';
import * as sip from 'sip';
import { encodeMessage } from '../wire';
import type { Inbound } from '../transport';
import type { TransactionIo } from './transaction-io';
import { branchOf, sentBy, toTagOf } from './via';

/** Server transactions (RFC 3261 §17.2, with the RFC 6026 "Accepted" state) and the 2xx retransmission of the UAS core. */

type ServerState = 'proceeding' | 'completed' | 'accepted' | 'confirmed' | 'terminated';

/** A request received from the network, waiting for (or holding) our response. */
export interface ServerTransaction {
  /** Opaque id handed to the application (IncomingCall.key). */
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

export class ServerTransactions {
  private readonly servers = new Map<string, ServerTx>();
  private readonly serversById = new Map<string, ServerTx>();
  /** `${callId}|${localTag}` -> INVITE server transaction whose 2xx is retransmitted until the ACK. */
  private readonly pending2xx = new Map<string, ServerTx>();
  private handlers?: StackHandlers;
  private closed = false;

  constructor(private readonly io: TransactionIo) {}

  setHandlers(handlers: StackHandlers): void {
    this.handlers = handlers;
  }

  /** Stops every timer; nothing is sent afterwards. */
  close(): void {
    this.closed = true;
    for (const tx of this.servers.values()) this.clear(tx);
    this.servers.clear();
    this.serversById.clear();
    this.pending2xx.clear();
  }

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
    this.io.transmit(wire, tx.source, rs);
    if (status < 200) return true;
    clearTimeout(tx.guard);
    tx.guard = undefined;
    tx.finalStatus = status;
    if (!tx.invite) {
      tx.state = 'completed';
      this.linger(tx, this.io.reliable ? 0 : 64 * this.io.timers.t1); // Timer J
      return true;
    }
    if (status < 300) {
      // RFC 3261 §13.3.1.4: the UAS core retransmits the 2xx (T1 doubling up to T2) until the ACK,
      // for 64*T1; RFC 6026 §7.1 Accepted state absorbs INVITE retransmissions meanwhile.
      tx.state = 'accepted';
      tx.localTag = toTagOf(rs);
      tx.pending2xxKey = `${rs.headers['call-id'] ?? ''}|${tx.localTag ?? ''}`;
      this.pending2xx.set(tx.pending2xxKey, tx);
      this.retransmit(tx, wire, rs);
      tx.timeout = setTimeout(() => {
        const acked = tx.pending2xxKey === undefined;
        this.terminate(tx);
        if (!acked) this.io.safe(() => this.handlers?.on2xxTimeout(rs.headers['call-id'] ?? '', tx.localTag ?? ''), 'on2xxTimeout');
      }, 64 * this.io.timers.t1);
      return true;
    }
    // §17.2.1 Completed: Timer G retransmits (unreliable only), Timer H waits for the ACK
    tx.state = 'completed';
    if (!this.io.reliable) this.retransmit(tx, wire, rs);
    tx.timeout = setTimeout(() => this.terminate(tx), 64 * this.io.timers.t1);
    return true;
  }

  /** A live server transaction by its opaque id. */
  findById(id: string): ServerTransaction | undefined {
    return this.serversById.get(id);
  }

  /** The INVITE server transaction a CANCEL refers to (RFC 3261 §9.2: same branch and sent-by). */
  findInvite(cancel: SipMessage): ServerTransaction | undefined {
    return this.servers.get(`${branchOf(cancel)}|${sentBy(cancel)}|INVITE`);
  }

  /** A request from the network: ACK, retransmission, or a new server transaction handed to the TU. */
  onRequest(rq: SipMessage, source: Inbound): void {
    const method = rq.method ?? '';
    const key = `${branchOf(rq)}|${sentBy(rq)}|${method === 'ACK' ? 'INVITE' : method}`;
    const existing = this.servers.get(key);
    if (method === 'ACK') return this.onAck(rq, existing);
    if (existing) {
      // retransmission: repeat the last response (if any); RFC 6026 absorbs it in Accepted
      if (existing.last && existing.state !== 'accepted') this.io.transmit(existing.last, source, rq, undefined, true);
      return;
    }
    const tx: ServerTx = { id: randomUUID(), key, request: rq, source, invite: method === 'INVITE', state: 'proceeding' };
    this.servers.set(key, tx);
    this.serversById.set(tx.id, tx);
    if (tx.invite) {
      // §17.2.1 / §8.2.6.1: 100 Trying straight away (stops the proxy's Timer A retransmissions)
      this.respond(tx, sip.makeResponse(rq, 100, 'Trying'));
    }
    const guardMs = tx.invite ? this.io.timers.uasInviteGuardMs : this.io.timers.uasNonInviteGuardMs;
    tx.guard = setTimeout(() => {
      tx.guard = undefined;
      if (tx.state !== 'proceeding') return;
      this.io.logger.warn({ callId: rq.headers['call-id'], method }, 'no final response from the application in time; answering');
      this.respond(tx, tx.invite ? sip.makeResponse(rq, 480, 'Temporarily Unavailable') : sip.makeResponse(rq, 500, 'Server Internal Error'));
    }, guardMs);
    if (!this.handlers) return;
    try {
      this.handlers.onRequest(rq, tx);
    } catch (err) {
      this.io.logger.warn({ err, callId: rq.headers['call-id'], method }, 'request handler threw; answering 500');
      this.respond(tx, sip.makeResponse(rq, 500, 'Server Internal Error'));
    }
  }

  private onAck(rq: SipMessage, existing: ServerTx | undefined): void {
    if (existing && existing.state === 'completed') {
      // ACK for our non-2xx final (§17.2.1): Confirmed, Timer I
      existing.state = 'confirmed';
      this.linger(existing, this.io.reliable ? 0 : this.io.timers.t4);
      return;
    }
    // §17.2.1: Confirmed absorbs ACK retransmissions until Timer I fires
    if (existing?.state === 'confirmed') return;
    const k2 = `${rq.headers['call-id'] ?? ''}|${toTagOf(rq) ?? ''}`;
    const accepted = this.pending2xx.get(k2);
    if (accepted) {
      this.pending2xx.delete(k2);
      accepted.pending2xxKey = undefined;
      clearTimeout(accepted.retransmit);
      accepted.retransmit = undefined;
      accepted.state = 'confirmed';
    }
    this.io.safe(() => this.handlers?.onAck(rq, accepted !== undefined), 'onAck');
  }

  /** Timer G for a non-2xx final, or the UAS core's 2xx retransmission: T1 doubling up to T2. */
  private retransmit(tx: ServerTx, wire: Buffer, rs: SipMessage): void {
    const resend = (interval: number): void => {
      tx.retransmit = setTimeout(() => {
        this.io.transmit(wire, tx.source, rs, undefined, true);
        resend(Math.min(interval * 2, this.io.timers.t2));
      }, interval);
    };
    resend(this.io.timers.t1);
  }

  private linger(tx: ServerTx, ms: number): void {
    clearTimeout(tx.retransmit);
    clearTimeout(tx.timeout);
    if (ms <= 0) return this.terminate(tx);
    tx.timeout = setTimeout(() => this.terminate(tx), ms);
  }

  private clear(tx: ServerTx): void {
    clearTimeout(tx.retransmit);
    clearTimeout(tx.timeout);
    clearTimeout(tx.guard);
  }

  private terminate(tx: ServerTx): void {
    this.clear(tx);
    tx.state = 'terminated';
    if (this.servers.get(tx.key) === tx) this.servers.delete(tx.key);
    this.serversById.delete(tx.id);
    if (tx.pending2xxKey && this.pending2xx.get(tx.pending2xxKey) === tx) this.pending2xx.delete(tx.pending2xxKey);
  }
}

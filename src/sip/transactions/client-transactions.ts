import type { SipMessage, SipVia } from 'sip';
import { encodeMessage } from '../wire';
import type { Peer, SipProtocol } from '../transport';
import type { TransactionIo } from './transaction-io';
import { branchOf, newVia, parseVia, viaText } from './via';

/** Client transactions (RFC 3261 §17.1, with the RFC 6026 "Accepted" state). */

export interface ClientHandlers {
  /** Every response the TU must see: 1xx, the final, and every 2xx of an INVITE (forks, retransmissions). */
  onResponse(rs: SipMessage): void;
  onTimeout(): void;
  onTransportError(err: Error): void;
  /** RFC 3263 §4.3 failover (routing/failover.ts) re-sent the request to the next target: its new branch and Via. */
  onRetarget?(sent: SentRequest): void;
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

type ClientState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

interface ClientTx {
  key: string;
  invite: boolean;
  rq: SipMessage;
  wire: Buffer;
  h: ClientHandlers;
  to: Peer;
  state: ClientState;
  /**
   * The transaction's one timer: over UDP in Calling (and Proceeding of a non-INVITE) the next
   * Timer A/E retransmission or, when that would come at or after the deadline, Timer B/F itself;
   * otherwise Timer B/F, the Proceeding guard, or the Completed/Accepted linger (D, K, M).
   */
  timer?: NodeJS.Timeout;
  /** performance.now() at which Timer B/F fires (while retransmissions run). */
  deadline: number;
  ack?: Buffer;
}

export interface ClientSide {
  protocol: SipProtocol;
  /** Host and port written in our Via. */
  advertisedHost: string;
  listenPort: number;
  outboundProxy: Peer;
}

export class ClientTransactions {
  private readonly clients = new Map<string, ClientTx>();
  private closed = false;

  constructor(
    private readonly io: TransactionIo,
    private readonly side: ClientSide,
  ) {}

  /**
   * Starts a client transaction (RFC 3261 §17.1). Writes our Via with a fresh strong branch (or the
   * given verbatim Via for CANCEL) and sends to the outbound proxy unless `opts.to` is given.
   */
  send(rq: SipMessage, h: ClientHandlers, opts: SendOptions = {}): SentRequest {
    const method = rq.method ?? '';
    let via: SipVia | undefined;
    if (opts.via !== undefined) via = parseVia(opts.via);
    via ??= newVia(this.side.protocol, this.side.advertisedHost, this.side.listenPort);
    rq.headers.via = [via];
    const branch = typeof via.params.branch === 'string' ? via.params.branch : '';
    const tx: ClientTx = {
      key: `${branch}|${method}`,
      invite: method === 'INVITE',
      rq,
      wire: encodeMessage(rq),
      h,
      to: opts.to ?? this.side.outboundProxy,
      state: 'calling',
      deadline: performance.now() + this.io.timers.transactionTimeoutMs,
    };
    if (this.closed) {
      closedError(h);
      return { branch, via: viaText(via) };
    }
    this.clients.set(tx.key, tx);
    this.io.transmit(tx.wire, tx.to, rq, (err) => this.transportError(tx, err));
    // §17.1.1.2 / §17.1.2.2: Timers A and E only over an unreliable transport
    if (this.io.reliable) tx.timer = setTimeout(() => this.timeout(tx), this.io.timers.transactionTimeoutMs);
    else this.scheduleRetransmit(tx, this.io.timers.t1);
    return { branch, via: viaText(via) };
  }

  /** Stops every timer; no callback fires afterwards. */
  close(): void {
    this.closed = true;
    for (const tx of this.clients.values()) this.clear(tx);
    this.clients.clear();
  }

  /** A response from the network, matched on branch + CSeq method (RFC 3261 §17.1.3). */
  onResponse(rs: SipMessage): void {
    const key = `${branchOf(rs)}|${rs.headers.cseq?.method ?? ''}`;
    const tx = this.clients.get(key);
    const status = rs.status ?? 0;
    if (!tx) {
      this.io.logger.debug({ callId: rs.headers['call-id'], status }, 'SIP response matches no transaction; dropped');
      return;
    }
    if (tx.invite) return this.onInviteResponse(tx, rs, status);
    if (tx.state !== 'calling' && tx.state !== 'proceeding') return;
    const h = tx.h;
    if (status < 200) {
      tx.state = 'proceeding';
    } else {
      tx.state = 'completed';
      this.linger(tx, this.io.reliable ? 0 : this.io.timers.t4); // Timer K
      release(tx);
    }
    this.io.safe(() => h.onResponse(rs), 'onResponse');
  }

  private onInviteResponse(tx: ClientTx, rs: SipMessage, status: number): void {
    if (status < 200) {
      if (tx.state !== 'calling' && tx.state !== 'proceeding') return; // late 1xx after a final: nothing to do
      if (tx.state === 'calling') {
        tx.state = 'proceeding';
        this.clear(tx);
        // Proceeding has no timer in RFC 3261; guard against a lost final answer
        tx.timer = setTimeout(() => this.timeout(tx), this.io.timers.maxInviteMs);
      }
      this.io.safe(() => tx.h.onResponse(rs), 'onResponse');
    } else if (status < 300) {
      // RFC 6026 §7.2 Accepted: every 2xx (forks, retransmissions) goes to the TU, which ACKs it
      if (tx.state === 'completed' || tx.state === 'terminated') return;
      if (tx.state !== 'accepted') {
        tx.state = 'accepted';
        this.linger(tx, 64 * this.io.timers.t1); // Timer M
        // nothing is retransmitted or ACKed by the transaction from here (the TU ACKs each 2xx):
        // the INVITE and its bytes are let go for the 32 s linger, the handlers stay
        releaseRequest(tx);
      }
      this.io.safe(() => tx.h.onResponse(rs), 'onResponse');
    } else if (tx.state === 'calling' || tx.state === 'proceeding') {
      // §17.1.1.3: ACK for a non-2xx final is generated by the transaction, same branch
      tx.ack = encodeMessage(nonSuccessAck(tx.rq, rs));
      this.io.transmit(tx.ack, tx.to, rs);
      const h = tx.h;
      tx.state = 'completed';
      this.linger(tx, this.io.reliable ? 0 : 64 * this.io.timers.t1); // Timer D
      release(tx);
      this.io.safe(() => h.onResponse(rs), 'onResponse');
    } else if (tx.state === 'completed' && tx.ack) {
      this.io.transmit(tx.ack, tx.to, rs, undefined, true); // retransmitted final: re-ACK, not passed up
    }
  }

  /** The next retransmission in `interval` ms, or Timer B/F when the deadline comes first (a tie goes to the timeout). */
  private scheduleRetransmit(tx: ClientTx, interval: number): void {
    const remaining = tx.deadline - performance.now();
    if (remaining <= interval) {
      tx.timer = setTimeout(() => this.timeout(tx), Math.max(0, remaining));
      return;
    }
    tx.timer = setTimeout(() => {
      if (tx.state !== 'calling' && !(tx.state === 'proceeding' && !tx.invite)) return;
      this.io.transmit(tx.wire, tx.to, tx.rq, (err) => this.transportError(tx, err), true);
      // Timer A doubles without cap (§17.1.1.2); Timer E is capped at T2, and is T2 once a 1xx put
      // the transaction in Proceeding (§17.1.2.2)
      const next = tx.invite ? interval * 2 : tx.state === 'proceeding' ? this.io.timers.t2 : Math.min(interval * 2, this.io.timers.t2);
      this.scheduleRetransmit(tx, next);
    }, interval);
  }

  private timeout(tx: ClientTx): void {
    if (tx.state === 'terminated') return;
    this.io.countTimeout(tx.rq.method ?? 'unknown');
    this.terminate(tx);
    this.io.safe(() => tx.h.onTimeout(), 'onTimeout');
  }

  private transportError(tx: ClientTx, err: Error): void {
    // §17.1.4: a transport failure in Calling/Trying/Proceeding is reported to the TU
    if (tx.state !== 'calling' && tx.state !== 'proceeding') return;
    this.terminate(tx);
    this.io.safe(() => tx.h.onTransportError(err), 'onTransportError');
  }

  private clear(tx: ClientTx): void {
    clearTimeout(tx.timer);
    tx.timer = undefined;
  }

  private terminate(tx: ClientTx): void {
    this.clear(tx);
    tx.state = 'terminated';
    if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
  }

  /** Lingers in Completed/Accepted for `ms` to absorb retransmissions, then terminates. */
  private linger(tx: ClientTx, ms: number): void {
    this.clear(tx);
    if (ms <= 0) return this.terminate(tx);
    tx.timer = setTimeout(() => this.terminate(tx), ms);
  }
}

/** Outside `send`, so that its closures (the transport's error callback, kept by a pending write) do not capture the handlers. */
function closedError(h: ClientHandlers): void {
  queueMicrotask(() => h.onTransportError(new Error('SIP stack closed')));
}

const NO_HANDLERS: ClientHandlers = { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined };
const RELEASED_REQUEST: SipMessage = { headers: {} };
const NO_WIRE = Buffer.alloc(0);

/**
 * Completed (RFC 3261 §17.1.1.2 Timer D, §17.1.2.2 Timer K) only absorbs retransmissions of the
 * final response: a non-INVITE passes none up, an INVITE re-sends its ACK (kept in `tx.ack`). The
 * request, its wire form and the TU's handlers (their closures hold the TU's state and the
 * response) are let go for the linger, so a transaction in Completed holds its key and timer only.
 */
function release(tx: ClientTx): void {
  releaseRequest(tx);
  tx.h = NO_HANDLERS;
}

function releaseRequest(tx: ClientTx): void {
  tx.rq = RELEASED_REQUEST;
  tx.wire = NO_WIRE;
}

/** RFC 3261 §17.1.1.3: the ACK for a non-2xx final response, built by the transaction. */
function nonSuccessAck(rq: SipMessage, rs: SipMessage): SipMessage {
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

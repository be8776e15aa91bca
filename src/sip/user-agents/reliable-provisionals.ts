import type { SipMessage } from 'sip';
import type { ServerTransaction } from '../sip-stack';
import type { UserAgentCore } from './user-agent-core';

interface Unacknowledged {
  tx: ServerTransaction;
  dialogKey: string;
  rseq: number;
  inviteSeq: number;
  rs: SipMessage;
  timer?: NodeJS.Timeout;
  started: number;
  /** RFC 3262 §3: a further reliable 18x waits until this one is PRACKed (the latest one only). */
  queued?: SipMessage;
}

/**
 * UAS side of RFC 3262 §3: our reliable 18x (Require: 100rel, RSeq) are retransmitted at T1,
 * doubling, until the PRACK that matches them (RAck = RSeq, CSeq number, method) or 64·T1; then
 * `onTimeout(key)` refuses the INVITE. One unacknowledged reliable 18x per INVITE at a time.
 */
export class ReliableProvisionals {
  /** By IncomingCall.key. */
  private readonly byKey = new Map<string, Unacknowledged>();
  /** Next RSeq per INVITE; the first is random in 1..2^31-1 (§3). */
  private readonly nextRseq = new Map<string, number>();

  constructor(
    private readonly core: UserAgentCore,
    private readonly t1Ms: number,
    private readonly onTimeout: (key: string) => void,
  ) {}

  /** Sends `rs` reliably (adds Require and RSeq), or queues it while an earlier one waits for its PRACK. */
  send(key: string, tx: ServerTransaction, dialogKey: string, rs: SipMessage): void {
    const waiting = this.byKey.get(key);
    if (waiting) {
      waiting.queued = rs;
      return;
    }
    const rseq = this.nextRseq.get(key) ?? 1 + Math.floor(Math.random() * (2 ** 31 - 2));
    this.nextRseq.set(key, rseq + 1);
    rs.headers.require = '100rel';
    rs.headers.rseq = String(rseq);
    const entry: Unacknowledged = { tx, dialogKey, rseq, inviteSeq: tx.request.headers.cseq?.seq ?? 0, rs, started: Date.now() };
    this.byKey.set(key, entry);
    if (!this.core.stack.respond(tx, rs)) return this.forget(key);
    this.schedule(key, entry, this.t1Ms);
  }

  /** A PRACK's RAck: true when it acknowledges the reliable 18x pending in that dialog. */
  acknowledge(dialogKey: string, rack: string | undefined): boolean {
    const m = /^\s*(\d+)\s+(\d+)\s+([A-Za-z]+)\s*$/.exec(rack ?? '');
    if (!m) return false;
    for (const [key, e] of this.byKey) {
      if (e.dialogKey !== dialogKey || Number(m[1]) !== e.rseq || Number(m[2]) !== e.inviteSeq || m[3]?.toUpperCase() !== 'INVITE') continue;
      clearTimeout(e.timer);
      this.byKey.delete(key);
      if (e.queued && e.tx.state === 'proceeding') this.send(key, e.tx, e.dialogKey, e.queued);
      return true;
    }
    return false;
  }

  /** The INVITE got its final response (or is gone): no more retransmissions. */
  forget(key: string): void {
    const e = this.byKey.get(key);
    if (e) clearTimeout(e.timer);
    this.byKey.delete(key);
    this.nextRseq.delete(key);
  }

  clear(): void {
    for (const key of [...this.byKey.keys()]) this.forget(key);
  }

  private schedule(key: string, e: Unacknowledged, interval: number): void {
    e.timer = setTimeout(() => {
      if (this.byKey.get(key) !== e) return;
      if (e.tx.state !== 'proceeding') return this.forget(key);
      // §3: retransmitted for up to 64·T1, then the INVITE is refused with a 5xx
      if (Date.now() - e.started + interval > 64 * this.t1Ms) {
        this.forget(key);
        this.onTimeout(key);
        return;
      }
      this.core.stack.respond(e.tx, e.rs);
      this.schedule(key, e, interval * 2);
    }, interval);
    e.timer.unref?.();
  }
}

/**
 * The offer/answer exchanges in progress in each dialog, both ways, on this instance (RFC 3261
 * §14.1, RFC 3311 §5.1): whether an offer of ours is pending (a far-end offer then gets 491), which
 * far-end re-INVITEs/UPDATEs are still open (ours must wait for them), and the SDP we last sent
 * when we answered one (an offer of ours sent after it must build on it, RFC 3264 §8).
 * Dialogs are keyed `${callId}|${localTag}`.
 */
export class OfferExchanges {
  /** Dialogs with an offer of ours in progress (re-INVITE or UPDATE not yet answered finally). */
  private readonly ours = new Map<string, number>();
  /** Far-end offers not yet completed, by CSeq number (a re-INVITE completes with the ACK of our 2xx). */
  private readonly theirs = new Map<string, Set<number>>();
  /** Called when a dialog has no far-end offer open any more. */
  private readonly waiters = new Map<string, Set<() => void>>();
  /** What we last sent in answer to a far-end offer (our 2xx SDP), with a running count. */
  private readonly sent = new Map<string, { count: number; sdp: string }>();

  constructor(
    /** Longest wait for a far-end offer to complete (64·T1: its 2xx was never ACKed, or nobody answered it). */
    private readonly maxWaitMs = 32_000,
  ) {}

  isOffering(key: string): boolean {
    return (this.ours.get(key) ?? 0) > 0;
  }

  /** Our offer is on the wire until `ourEnded` (counted: a refresh and an offer may overlap). */
  ourStarted(key: string): void {
    this.ours.set(key, (this.ours.get(key) ?? 0) + 1);
  }

  ourEnded(key: string): void {
    const left = (this.ours.get(key) ?? 1) - 1;
    if (left > 0) this.ours.set(key, left);
    else this.ours.delete(key);
  }

  /** A far-end re-INVITE/UPDATE offer passed on to be answered. */
  theirsOpened(key: string, cseq: number): void {
    const open = this.theirs.get(key) ?? new Set<number>();
    open.add(cseq);
    this.theirs.set(key, open);
  }

  /** A far-end offer completed (final non-2xx, 2xx to an UPDATE, ACK of a 2xx); without `cseq` all of the dialog's. */
  theirsClosed(key: string, cseq?: number): void {
    const open = this.theirs.get(key);
    if (!open) return;
    if (cseq === undefined) open.clear();
    else open.delete(cseq);
    if (open.size > 0) return;
    this.theirs.delete(key);
    const waiting = this.waiters.get(key);
    this.waiters.delete(key);
    for (const wake of waiting ?? []) wake();
  }

  hasTheirs(key: string): boolean {
    return this.theirs.has(key);
  }

  /**
   * RFC 3261 §14.1: "a UAC MUST NOT initiate a new INVITE transaction within a dialog while another
   * INVITE transaction is in progress in either direction". Resolves once no far-end offer is open
   * (at once when none is), or after `maxWaitMs` whatever happened to it.
   */
  async theirsSettled(key: string): Promise<void> {
    if (!this.theirs.has(key)) return;
    await new Promise<void>((resolve) => {
      const waiting = this.waiters.get(key) ?? new Set<() => void>();
      const done = (): void => {
        clearTimeout(timer);
        waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.maxWaitMs);
      timer.unref();
      waiting.add(done);
      this.waiters.set(key, waiting);
    });
  }

  /** The SDP of our 2xx to a far-end offer (or our offer in the 2xx to an offerless one). */
  answered(key: string, sdp: string): void {
    this.sent.set(key, { count: (this.sent.get(key)?.count ?? 0) + 1, sdp });
  }

  /** A mark to pass to `sentSince`. */
  mark(key: string): number {
    return this.sent.get(key)?.count ?? 0;
  }

  /** The SDP we last sent answering a far-end offer after `mark`, if we did. */
  sentSince(key: string, mark: number): string | undefined {
    const s = this.sent.get(key);
    return s && s.count > mark ? s.sdp : undefined;
  }

  /** The dialog ended (BYE either way): nothing of it is kept, and whoever waits goes on. */
  forget(key: string): void {
    this.theirsClosed(key);
    this.sent.delete(key);
  }

  clear(): void {
    for (const key of [...this.theirs.keys()]) this.theirsClosed(key);
    this.ours.clear();
    this.sent.clear();
  }
}

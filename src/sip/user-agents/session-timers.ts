import type { Logger } from 'pino';
import { expiryDelayS, refreshDelayS, SessionTimer } from './session-timer';

/** What the gateway is told when a dialog's timer fires (callId, our tag). */
export interface SessionTimerEvents {
  /** We are the refresher and half the interval has passed (RFC 4028 §10). */
  refreshDue(callId: string, localTag: string): void;
  /** No refresh arrived or succeeded in time: the session must end with BYE (§10). */
  expired(callId: string, localTag: string): void;
}

interface Entry {
  timer: SessionTimer;
  /** The far end accepts UPDATE: refreshes go in UPDATE (RFC 4028 §7.4), else in re-INVITE. */
  allowsUpdate: boolean;
  refresh?: NodeJS.Timeout;
  expiry: NodeJS.Timeout;
}

/**
 * The running RFC 4028 timers of the dialogs this instance holds (one refresh and one expiry timer
 * per dialog, keyed by `callId|localTag`). They live in memory: a call's timers run on the instance
 * that set it up, and are lost when that instance stops.
 */
export class SessionTimers {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly events: SessionTimerEvents,
    private readonly logger: Logger,
    /** Milliseconds per timer second; tests shrink it. */
    private readonly unitMs = 1000,
  ) {}

  /** (Re)starts the timers of a dialog: after its 2xx, and after every successful refresh. */
  arm(callId: string, localTag: string, timer: SessionTimer, allowsUpdate?: boolean): void {
    const key = `${callId}|${localTag}`;
    const prev = this.entries.get(key);
    this.stopTimers(prev);
    const entry: Entry = {
      timer,
      allowsUpdate: allowsUpdate ?? prev?.allowsUpdate ?? false,
      expiry: this.after(expiryDelayS(timer), () => {
        this.stop(callId, localTag);
        this.logger.warn({ callId, intervalS: timer.intervalS, refresher: timer.refresher }, 'session timer expired without a refresh (RFC 4028 §10)');
        this.events.expired(callId, localTag);
      }),
    };
    if (timer.refresher === 'local') entry.refresh = this.after(refreshDelayS(timer), () => this.events.refreshDue(callId, localTag));
    this.entries.set(key, entry);
    this.logger.debug({ callId, intervalS: timer.intervalS, refresher: timer.refresher }, 'session timer armed');
  }

  /** The timer of a dialog, if it has one. */
  get(callId: string, localTag: string): (SessionTimer & { allowsUpdate: boolean }) | undefined {
    const e = this.entries.get(`${callId}|${localTag}`);
    return e && { ...e.timer, allowsUpdate: e.allowsUpdate };
  }

  /** The dialog ended (BYE either way, 481/408) or has no timer any more. */
  stop(callId: string, localTag: string): void {
    const key = `${callId}|${localTag}`;
    this.stopTimers(this.entries.get(key));
    this.entries.delete(key);
  }

  clear(): void {
    for (const e of this.entries.values()) this.stopTimers(e);
    this.entries.clear();
  }

  private stopTimers(e: Entry | undefined): void {
    if (!e) return;
    clearTimeout(e.expiry);
    if (e.refresh) clearTimeout(e.refresh);
  }

  private after(seconds: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      try {
        fn();
      } catch (err) {
        this.logger.warn({ err }, 'session timer listener threw');
      }
    }, seconds * this.unitMs);
    t.unref();
    return t;
  }
}

import { isFinal, SessionStatus } from '../domain/media-session-status';
import type { MediaSession } from '../store/session-store';
import type { CallDirection, CallTelemetry } from './call-telemetry';

/**
 * Call-setup timing of the calls this instance set up (RFC 6076: post-dial delay at the first
 * 18x, session request delay at the answer, the outcome once), reported to a CallTelemetry.
 */
export class CallSetupKpis {
  private readonly setup = new Map<string, { startedAt: number; provisional: boolean; answered: boolean }>();

  constructor(
    private readonly now: () => number,
    private readonly telemetry: CallTelemetry | undefined,
  ) {}

  started(mediaSessionId: string, direction: CallDirection): void {
    this.setup.set(mediaSessionId, { startedAt: this.now(), provisional: false, answered: false });
    this.telemetry?.callStarted(direction);
  }

  /**
   * After each stored transition. `setupCode` is the SIP code the outcome is counted under: the
   * transition's own, else the last one the session had (the 200 of a call that ended with BYE).
   */
  observe(s: MediaSession, next: SessionStatus, code: number | undefined, reason: string | undefined, setupCode: number | undefined = code): void {
    const t = this.setup.get(s.mediaSessionId);
    if (t) {
      const ms = this.now() - t.startedAt;
      if (!t.provisional && code !== undefined && code >= 180 && code < 200) {
        t.provisional = true;
        this.telemetry?.callProvisional(s.direction, ms);
      }
      if (!t.answered && next === 'Connected') {
        t.answered = true;
        this.telemetry?.callAnswered(s.direction, ms, code ?? 200);
      }
    }
    if (isFinal(next)) {
      this.telemetry?.callEnded(s.direction, next, setupCode, reason, t?.answered ?? (s.answer !== undefined && next === 'Terminated'));
      this.setup.delete(s.mediaSessionId);
    }
  }
}

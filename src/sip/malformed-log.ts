import type { Logger } from 'pino';
import { redactSecrets } from './redaction';

/**
 * Malformed or refused SIP from the network (issue 13): each message at debug, and at most one
 * `warn` summary per interval with the count since the last one, so a flood of junk datagrams
 * cannot flood the log. The first one is reported at once.
 */
export class EdgeRefusalLog {
  private suppressed = 0;
  private lastWarnAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(peer: string, reason: string, raw?: Buffer): void {
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug({ peer, reason, ...(raw && { sip: redactSecrets(raw.toString('utf8', 0, Math.min(raw.length, 4096))) }) }, this.what);
    }
    const t = this.now();
    if (t - this.lastWarnAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn({ peer, reason, sinceLastSummary: this.suppressed + 1 }, `${this.what} (summary: at most one line per ${Math.round(this.intervalMs / 1000)} s)`);
    this.suppressed = 0;
    this.lastWarnAt = t;
  }
}

import { Inject, Injectable, Optional } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { TooManyRequestsError } from '../common/errors/api-error';
import { LIMIT_TELEMETRY, LimitTelemetry } from '../common/limits/limit-telemetry';
import { SessionStore } from '../store/session-store';

/**
 * QUOTA_SESSIONS_PER_NUMBER: concurrent (non-final) sessions of one subscriber. Emergency calls
 * are never counted against it (their use case does not ask).
 */
@Injectable()
export class SessionQuota {
  constructor(
    private readonly config: AppConfig,
    private readonly store: SessionStore,
    @Optional() @Inject(LIMIT_TELEMETRY) private readonly telemetry?: LimitTelemetry,
  ) {}

  /** Throws 429 TOO_MANY_REQUESTS (Retry-After) when `phoneNumber` already has the most sessions allowed. */
  async check(phoneNumber: string): Promise<void> {
    const max = this.config.limits.sessionsPerNumber;
    if (max === 0) return;
    const active = await this.store.countActiveByNumber(phoneNumber);
    if (active >= max) {
      this.telemetry?.limitRefused('sessions-per-number');
      // NOTE: a count, not a rate: Retry-After is a hint; ending a call frees a slot at once.
      throw new TooManyRequestsError(`${phoneNumber} already has ${active} sessions in progress (at most ${max}); end one first.`, 30);
    }
  }
}

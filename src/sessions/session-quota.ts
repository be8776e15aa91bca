import { Inject, Injectable, Optional } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { TooManyRequestsError } from '../common/errors/api-error';
import { LIMIT_TELEMETRY, LimitTelemetry } from '../common/limits/limit-telemetry';
import type { QuotaExceeded } from '../store/quota';
import type { MediaSession } from '../store/session-store';

/**
 * QUOTA_SESSIONS_PER_NUMBER: concurrent (non-final) sessions of one subscriber. The session store
 * applies the cap when it creates the session (count and insert in one atomic step, so parallel
 * calls cannot overshoot it); this class names the cap and turns a refusal into its outcome.
 */
@Injectable()
export class SessionQuota {
  constructor(
    private readonly config: AppConfig,
    @Optional() @Inject(LIMIT_TELEMETRY) private readonly telemetry?: LimitTelemetry,
  ) {}

  /** The cap for a new session (0: none). Emergency calls are never refused by it. */
  capFor(callType: MediaSession['callType']): number {
    return callType === 'EMERGENCY' ? 0 : this.config.limits.sessionsPerNumber;
  }

  /** POST /sessions refused by the store: counted; 429 TOO_MANY_REQUESTS with Retry-After. */
  tooManyRequests(phoneNumber: string, { active, max }: QuotaExceeded): TooManyRequestsError {
    this.telemetry?.limitRefused('sessions-per-number');
    // NOTE: a count, not a rate: Retry-After is a hint; ending a call frees a slot at once.
    return new TooManyRequestsError(`${phoneNumber} already has ${active} sessions in progress (at most ${max}); end one first.`, 30);
  }

  /** An incoming call refused by the store (answered 486 by the caller of this): counted. */
  busy(): void {
    this.telemetry?.limitRefused('sessions-per-number');
  }
}

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
    const full = await this.full(phoneNumber);
    // NOTE: a count, not a rate: Retry-After is a hint; ending a call frees a slot at once.
    if (full) throw new TooManyRequestsError(`${phoneNumber} already has ${full.active} sessions in progress (at most ${full.max}); end one first.`, 30);
  }

  /** Whether one more session (an incoming call) fits `phoneNumber`'s quota; a refusal is counted. */
  async allows(phoneNumber: string): Promise<boolean> {
    return (await this.full(phoneNumber)) === undefined;
  }

  private async full(phoneNumber: string): Promise<{ active: number; max: number } | undefined> {
    const max = this.config.limits.sessionsPerNumber;
    if (max === 0) return undefined;
    const active = await this.store.countActiveByNumber(phoneNumber);
    if (active < max) return undefined;
    this.telemetry?.limitRefused('sessions-per-number');
    return { active, max };
  }
}

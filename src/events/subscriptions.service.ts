import { randomUUID } from 'node:crypto';
import type { Principal } from '../common/auth/principal';
import { requirePhoneNumber, requireScopes } from '../common/auth/scopes.decorator';
import { ApiError, invalidArgument, notFound, TooManyRequestsError } from '../common/errors/api-error';
import type { LimitTelemetry } from '../common/limits/limit-telemetry';
import { Clock } from '../common/clock';
import { RegistrationStore } from '../store/registration-store';
import { AccessTokenSinkCredential, StoredSubscription, SubscriptionStore } from '../store/subscription-store';
import { isQuotaExceeded, QuotaExceeded } from '../store/quota';
import { SinkCredentialDto, SubscriptionRequest, SubscriptionUpdateRequest } from './dto/subscription-request.dto';
import { Subscription, toSubscription } from './dto/subscription.dto';
import { SinkPolicy, SinkRejectedError } from './sink-address';
import { computeEndsAt, DEFAULT_TOKEN_NOTICE_MS, SubscriptionLifecycle } from './subscription-lifecycle';

export const EVENTS_READ_SCOPE = 'webrtc-events:read';
export const EVENTS_UPDATE_SCOPE = 'webrtc-events:update';
export const EVENTS_DELETE_SCOPE = 'webrtc-events:delete';
export const createScope = (type: string): string => `webrtc-events:${type}:create`;

/** webrtc-events subscriptions: create, read, update, delete. Controllers stay thin; rules live here. */
export class SubscriptionsService {
  constructor(
    private readonly store: SubscriptionStore,
    private readonly registrations: RegistrationStore,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly sinks: SinkPolicy,
    private readonly clock: Clock = Clock.system,
    private readonly tokenNoticeMs = DEFAULT_TOKEN_NOTICE_MS,
    /** Most ACTIVE subscriptions per device (0: no cap): each one is a webhook per event. */
    private readonly quota: { perDevice: number; telemetry?: LimitTelemetry | undefined } = { perDevice: 0 },
  ) {}

  async create(principal: Principal, body: SubscriptionRequest): Promise<Subscription> {
    // Spec security: one create scope per requested type.
    requireScopes(principal, body.types.map(createScope));
    const phoneNumber = requirePhoneNumber(principal);
    if (body.protocol !== 'HTTP') throw new ApiError(400, 'INVALID_PROTOCOL', 'Only HTTP is supported');
    const sinkCredential = body.sinkCredential ? this.credential(body.sinkCredential) : undefined;
    this.expireTime(body.config.subscriptionExpireTime);
    await this.checkSink(body.sink);
    const { deviceId } = body.config.subscriptionDetail;
    const reg = await this.registrations.findByDevice(phoneNumber, deviceId);
    if (!reg || reg.expiresAt <= this.clock.now()) {
      throw new ApiError(422, 'SERVICE_NOT_APPLICABLE', 'config.subscriptionDetail.deviceId has no active registration for this phone number.');
    }
    const sub: StoredSubscription = {
      id: randomUUID(),
      owner: phoneNumber,
      phoneNumber,
      deviceId,
      protocol: 'HTTP',
      sink: body.sink,
      types: [...body.types],
      startsAt: new Date(this.clock.now()).toISOString(),
      state: 'ACTIVE',
      version: 0,
      ...(sinkCredential ? { sinkCredential } : {}),
      ...(body.config.subscriptionExpireTime !== undefined ? { subscriptionExpireTime: body.config.subscriptionExpireTime } : {}),
    };
    const endsAt = computeEndsAt(sub, this.tokenNoticeMs);
    if (endsAt !== undefined) sub.endsAt = endsAt;
    // the cap is checked in the same atomic step as the insert: parallel creates cannot overshoot it
    const refused = await this.store.create(sub, this.quota.perDevice);
    if (isQuotaExceeded(refused)) throw this.quotaError(refused);
    return toSubscription({ ...sub, version: 1 });
  }

  async list(principal: Principal): Promise<Subscription[]> {
    const subs = await this.store.listByOwner(requirePhoneNumber(principal));
    return subs
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt))
      .slice(0, 100)
      .map(toSubscription);
  }

  async get(principal: Principal, id: string): Promise<Subscription> {
    return toSubscription(await this.own(principal, id));
  }

  async update(principal: Principal, id: string, body: SubscriptionUpdateRequest): Promise<Subscription> {
    const cur = await this.own(principal, id);
    const next: StoredSubscription = { ...cur };
    if (body.sinkCredential) next.sinkCredential = this.credential(body.sinkCredential);
    const expire = body.config?.subscriptionExpireTime;
    if (expire !== undefined) {
      this.expireTime(expire);
      next.subscriptionExpireTime = expire;
    }
    const endsAt = computeEndsAt(next, this.tokenNoticeMs);
    if (endsAt === undefined) delete next.endsAt;
    else next.endsAt = endsAt;
    const updated = await this.store.update(next, cur.version);
    if (!updated) throw new ApiError(409, 'CONFLICT', `Subscription ${id} was modified concurrently; retry.`);
    return toSubscription(updated);
  }

  async delete(principal: Principal, id: string, correlator?: string): Promise<void> {
    const cur = await this.own(principal, id);
    if (!(await this.lifecycle.end(cur, 'SUBSCRIPTION_DELETED', correlator))) throw notFound(`Subscription ${id} not found`);
  }

  /** The caller's ACTIVE subscription, or 404 (someone else's looks exactly like a missing one). */
  private async own(principal: Principal, id: string): Promise<StoredSubscription> {
    const owner = requirePhoneNumber(principal);
    const sub = await this.store.get(id);
    if (!sub || sub.owner !== owner || sub.state !== 'ACTIVE' || (sub.endsAt !== undefined && sub.endsAt <= this.clock.now())) {
      throw notFound(`Subscription ${id} not found`);
    }
    return sub;
  }

  private expireTime(value: string | undefined): void {
    if (value === undefined) return;
    const t = Date.parse(value);
    if (!Number.isFinite(t)) throw invalidArgument('config.subscriptionExpireTime is not a valid date-time.');
    if (t <= this.clock.now()) throw invalidArgument('config.subscriptionExpireTime must be in the future.');
  }

  private credential(c: SinkCredentialDto): AccessTokenSinkCredential {
    if (c.credentialType !== 'ACCESSTOKEN') throw new ApiError(400, 'INVALID_CREDENTIAL', 'Only Access token is supported');
    if (c.accessToken === undefined || c.accessToken === '' || c.accessTokenExpiresUtc === undefined || c.accessTokenType === undefined) {
      throw new ApiError(400, 'INVALID_CREDENTIAL', 'An ACCESSTOKEN sinkCredential needs accessToken, accessTokenExpiresUtc and accessTokenType.');
    }
    if (c.accessTokenType !== 'bearer') throw new ApiError(400, 'INVALID_TOKEN', 'Only bearer token is supported');
    const expires = Date.parse(c.accessTokenExpiresUtc);
    if (!Number.isFinite(expires) || expires - this.tokenNoticeMs <= this.clock.now()) {
      throw new ApiError(400, 'INVALID_CREDENTIAL', 'sinkCredential.accessTokenExpiresUtc is in the past or too close to be used.');
    }
    return { credentialType: 'ACCESSTOKEN', accessToken: c.accessToken, accessTokenExpiresUtc: c.accessTokenExpiresUtc, accessTokenType: 'bearer' };
  }

  private quotaError({ active, max }: QuotaExceeded): TooManyRequestsError {
    this.quota.telemetry?.limitRefused('subscriptions-per-device');
    // NOTE: a count, not a rate: Retry-After is a hint; deleting a subscription frees a slot at once.
    return new TooManyRequestsError(`This device already has ${active} subscriptions (at most ${max}); delete one first.`, 60);
  }

  private async checkSink(sink: string): Promise<void> {
    try {
      await this.sinks.check(sink);
    } catch (err) {
      if (err instanceof SinkRejectedError) throw new ApiError(400, 'INVALID_SINK', `sink not valid: ${err.message}`);
      throw err;
    }
  }
}

import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { requirePhoneNumber } from '../common/auth/scopes.decorator';
import type { Principal } from '../common/auth/principal';
import { alreadyExists, ApiError, badGateway, notFound, permissionDenied, TooManyRequestsError, unavailable } from '../common/errors/api-error';
import { LIMIT_TELEMETRY, LimitTelemetry } from '../common/limits/limit-telemetry';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { Clock } from '../common/clock';
import { Registration, RegistrationStore } from '../store/registration-store';
import { isQuotaExceeded, QuotaExceeded } from '../store/quota';
import { RegistrationTarget, SipFailure, SipGateway } from '../sip/sip-gateway';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { EventPublisher, WebrtcEventType } from '../events/event-publisher';
import { RegSessionRequest, RegSessionResponse, RegSessionUpdate, toRegSessionResponse } from './dto/reg-session.dto';
import { refreshAt, requestedExpiresS, resolveExpiry } from './registration-timing';
import { schedule, withRegEvent } from './reg-event-schedule';

export type RegistrationEndReason = 'REGISTRATION_EXPIRED' | 'NETWORK_TERMINATED';

/** webrtc-registration use cases: each registration is a SIP REGISTER binding kept alive by the gateway. */
@Injectable()
export class RegistrationsService {
  constructor(
    private readonly config: AppConfig,
    private readonly store: RegistrationStore,
    private readonly sip: SipGateway,
    private readonly credentials: SipCredentialsProvider,
    private readonly events: EventPublisher,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
    @Optional() @Inject(LIMIT_TELEMETRY) private readonly limits?: LimitTelemetry,
  ) {}

  /** `log`: the request's logger (its lines carry the x-correlator). */
  async create(principal: Principal, body: RegSessionRequest, log: RootLogger = this.logger): Promise<RegSessionResponse> {
    const phoneNumber = requirePhoneNumber(principal);
    const now = this.clock.now();
    const expiresAt = resolveExpiry(body.registrationExpireTime, now, this.config.registration);
    // Early refusals, before a REGISTER reaches the network; the store's create decides (atomically).
    // Both reads go out together (one pipelined round trip on Redis), the device conflict first.
    const [exists, quota] = await Promise.all([this.store.hasDevice(phoneNumber, body.deviceId), this.quotaReached(phoneNumber, now)]);
    if (exists) throw this.conflict();
    if (quota) throw this.quotaError(phoneNumber, quota);
    const credentials = this.credentials.get(phoneNumber);
    if (!credentials) throw permissionDenied(`No SIP credentials are provisioned for ${phoneNumber} on this gateway.`);

    const registrationId = randomUUID();
    const target: RegistrationTarget = {
      registrationId,
      phoneNumber,
      deviceId: body.deviceId,
      expiresS: requestedExpiresS(now, expiresAt, this.config.sip.registerExpiresS),
      credentials,
    };
    const grant = await this.sip.register(target).catch((err: unknown) => {
      throw this.networkError(err, phoneNumber);
    });
    const done = this.clock.now();
    const reg: Registration = {
      registrationId,
      deviceId: body.deviceId,
      phoneNumber,
      subject: principal.subject,
      createdAt: now,
      expiresAt,
      binding: grant.binding,
      networkExpiresAt: done + grant.grantedExpiresS * 1000,
      dueAt: Math.min(expiresAt, refreshAt(done, grant.grantedExpiresS)),
      refreshFailures: 0,
      version: 0,
    };
    const created = await this.store.create(this.withRegEvent(reg), this.config.limits.registrationsPerNumber).catch(async (err: unknown) => {
      await this.unbind(reg, log);
      throw err;
    });
    if (isQuotaExceeded(created)) {
      // Lost a race with concurrent POSTs of the same number for the last slot: undo our binding.
      await this.unbind(reg, log);
      throw this.quotaError(phoneNumber, created);
    }
    if (!created) {
      // Lost a race with a concurrent POST for the same (phone, device): undo our binding.
      await this.unbind(reg, log);
      throw this.conflict();
    }
    // one line with its fields, no child logger (the request's logger carries the correlator): a child per registration costs more than the line itself
    log.info({ registrationId, deviceId: body.deviceId, grantedExpiresS: grant.grantedExpiresS, expiresAt: new Date(expiresAt).toISOString() }, 'registration created');
    return toRegSessionResponse(reg);
  }

  async listByDevice(principal: Principal, deviceId: string): Promise<RegSessionResponse[]> {
    const phoneNumber = requirePhoneNumber(principal);
    const reg = await this.store.findByDevice(phoneNumber, deviceId);
    return reg && this.isActive(reg) ? [toRegSessionResponse(reg)] : [];
  }

  async get(principal: Principal, registrationId: string): Promise<RegSessionResponse> {
    return toRegSessionResponse(await this.own(principal, registrationId));
  }

  /** Finds an active registration of the token's subscriber, or 404 (never someone else's data). */
  async own(principal: Principal, registrationId: string): Promise<Registration> {
    const phoneNumber = requirePhoneNumber(principal);
    const reg = registrationId.length <= 256 ? await this.store.get(registrationId) : undefined;
    if (!reg || reg.phoneNumber !== phoneNumber || !this.isActive(reg)) throw notFound(`Registration ${registrationId.slice(0, 64)} not found.`);
    return reg;
  }

  /** An active registration by id, whoever owns it (for traffic the network starts). */
  async active(registrationId: string): Promise<Registration | undefined> {
    const reg = await this.store.get(registrationId);
    return reg && this.isActive(reg) ? reg : undefined;
  }

  /** PUT: new CAMARA expiry from now (spec: t_req + TTL), and a SIP refresh so the answer is authoritative. */
  async refresh(principal: Principal, registrationId: string, body: RegSessionUpdate): Promise<RegSessionResponse> {
    const now = this.clock.now();
    const expiresAt = resolveExpiry(body.registrationExpireTime, now, this.config.registration);
    const reg = await this.own(principal, registrationId);
    const credentials = this.credentials.get(reg.phoneNumber);
    if (!credentials) throw permissionDenied(`No SIP credentials are provisioned for ${reg.phoneNumber} on this gateway.`);
    const grant = await this.sip.register({ ...this.targetOf(reg, credentials), expiresS: requestedExpiresS(now, expiresAt, this.config.sip.registerExpiresS) }).catch((err: unknown) => {
      throw this.networkError(err, reg.phoneNumber);
    });
    const done = this.clock.now();
    const next: Registration = {
      ...reg,
      expiresAt,
      binding: grant.binding,
      networkExpiresAt: done + grant.grantedExpiresS * 1000,
      dueAt: Math.min(expiresAt, refreshAt(done, grant.grantedExpiresS)),
      refreshFailures: 0,
    };
    const saved = await this.store.update(schedule(next, next.dueAt), reg.version);
    if (!saved) {
      // Someone (the refresher or another instance) updated it meanwhile: the binding is alive either way.
      const latest = await this.own(principal, registrationId);
      const merged = await this.store.update({ ...latest, expiresAt, binding: grant.binding, networkExpiresAt: next.networkExpiresAt, dueAt: next.dueAt }, latest.version);
      if (!merged) throw new ApiError(409, 'CONFLICT', 'The registration changed while it was being refreshed; retry.');
      return toRegSessionResponse(merged);
    }
    return toRegSessionResponse(saved);
  }

  async remove(principal: Principal, registrationId: string, log: RootLogger = this.logger): Promise<void> {
    const reg = await this.own(principal, registrationId);
    if (!(await this.store.delete(reg.registrationId))) throw notFound(`Registration ${registrationId} not found.`);
    await this.unbind(reg, log);
    await this.ended(reg, 'NETWORK_TERMINATED', 'The registration was deleted by the application.', log);
    log.info({ registrationId }, 'registration deleted');
  }

  /** Removes the SIP binding (Expires: 0). Never throws: the registrar drops it at expiry anyway. */
  async unbind(reg: Registration, log: RootLogger = this.logger): Promise<void> {
    const credentials = this.credentials.get(reg.phoneNumber);
    if (!credentials) return;
    await this.sip.unregister({ ...this.targetOf(reg, credentials), expiresS: 0, binding: reg.binding }).catch((err: unknown) => {
      log.warn({ registrationId: reg.registrationId, err: err instanceof Error ? err.message : String(err) }, 'un-REGISTER failed; the binding will lapse at its expiry');
    });
  }

  /** Tells the device's subscriptions that the registration is over (webrtc-events registration-ends). */
  async ended(reg: Registration, reason: RegistrationEndReason, description: string, log: RootLogger = this.logger): Promise<void> {
    await this.events
      .publish({ phoneNumber: reg.phoneNumber, deviceId: reg.deviceId }, WebrtcEventType.registrationEnds, {
        registrationId: reg.registrationId,
        terminationReason: reason,
        terminationDescription: description,
      })
      .catch((err: unknown) => log.error({ registrationId: reg.registrationId, err }, 'could not enqueue registration-ends event'));
  }

  targetOf(reg: Registration, credentials: RegistrationTarget['credentials']): RegistrationTarget & { binding: Registration['binding'] } {
    return {
      registrationId: reg.registrationId,
      phoneNumber: reg.phoneNumber,
      deviceId: reg.deviceId,
      expiresS: 0,
      credentials,
      binding: reg.binding,
    };
  }

  /** IMS profile: the new registration subscribes to its `reg` event package at once (TS 24.229 §5.1.1.3), through the refresher. */
  private withRegEvent(reg: Registration): Registration {
    return withRegEvent(reg, this.config.sip.imsProfile, this.clock.now());
  }

  private isActive(reg: Registration): boolean {
    return reg.expiresAt > this.clock.now();
  }

  /**
   * QUOTA_REGISTRATIONS_PER_NUMBER: every registration is a binding the registrar lists in each
   * 200 OK (1,000 of them made a 93 KB response that no longer fit UDP).
   */
  private async quotaReached(phoneNumber: string, now: number): Promise<Pick<QuotaExceeded, 'active' | 'max'> | undefined> {
    const max = this.config.limits.registrationsPerNumber;
    if (max === 0) return undefined;
    const active = await this.store.countActiveByNumber(phoneNumber, now);
    return active >= max ? { active, max } : undefined;
  }

  private quotaError(phoneNumber: string, { active, max }: Pick<QuotaExceeded, 'active' | 'max'>): TooManyRequestsError {
    this.limits?.limitRefused('registrations-per-number');
    // NOTE: a count, not a rate: Retry-After is a hint; deleting a registration frees a slot at once.
    return new TooManyRequestsError(`${phoneNumber} already has ${active} active registrations (at most ${max}); delete one first.`, 60);
  }

  private conflict(): ApiError {
    return alreadyExists('An active registration already exists for the supplied deviceId and the phoneNumber resolved from the access token.');
  }

  /** SIP outcome → CAMARA error: refused 403, unreachable 503, network fault 502. */
  private networkError(err: unknown, phoneNumber: string): ApiError {
    if (!(err instanceof SipFailure)) return err instanceof ApiError ? err : unavailable('The IMS core could not be reached.');
    const what = `${err.status ?? ''} ${err.reason ?? ''}`.trim();
    switch (err.kind) {
      case 'rejected':
        if (err.status === 401 || err.status === 403 || err.status === 404 || err.status === 407) {
          return permissionDenied(`The IMS core refused the registration of ${phoneNumber} (${what}).`);
        }
        return badGateway(`The IMS core answered the registration of ${phoneNumber} with ${what}.`);
      case 'timeout':
        return unavailable('The IMS core did not answer the REGISTER in time.');
      case 'transport':
        return unavailable(`The IMS core is unreachable (${err.message}).`);
    }
  }
}

import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { Clock } from '../common/clock';
import { Registration, RegistrationStore } from '../store/registration-store';
import { SipFailure, SipGateway } from '../sip/sip-gateway';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { refreshAt, requestedExpiresS, retryDelayMs } from './registration-timing';
import { RegistrationsService } from './registrations.service';
import { REGISTRATION_TELEMETRY, RegistrationTelemetry } from './registration-telemetry';
import { RegEvents } from './reg-events';
import { registerDue, schedule, subscriptionDue } from './reg-event-schedule';

/** How long one instance holds a due registration before another may take it (crash safety). */
const LEASE_MS = 30_000;
const BATCH = 200;
/**
 * Batches one pass may claim one after another while each comes back full (at most BATCH in
 * flight at a time): a burst of new registrations (each due at once for its `reg` SUBSCRIBE) or a
 * wave of refreshes is worked off at the rate the network answers, not at BATCH per poll period.
 */
const MAX_BATCHES_PER_PASS = 25;

/**
 * Keeps SIP bindings alive: refreshes them before the registrar's expiry and removes them at the
 * CAMARA `expiresAt`. Work is claimed from the store's due index, so it survives restarts and is
 * shared by every instance on the same Redis (the first to claim a registration does it).
 */
@Injectable()
export class RegistrationRefresher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Poll period; tests shorten it. */
  static intervalMs = 1000;

  constructor(
    private readonly config: AppConfig,
    private readonly store: RegistrationStore,
    private readonly sip: SipGateway,
    private readonly credentials: SipCredentialsProvider,
    private readonly registrations: RegistrationsService,
    private readonly regEvents: RegEvents,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
    @Optional() @Inject(REGISTRATION_TELEMETRY) private readonly telemetry?: RegistrationTelemetry,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), RegistrationRefresher.intervalMs);
    this.timer.unref();
  }

  /** Before the SIP stack closes (onApplicationShutdown), so the un-REGISTERs still leave. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.regEvents.stop();
    // NOTE: with the in-memory store this process is the last holder of its registrations (its
    // state dies with it), so it removes their bindings. With Redis they stay: a restarted or
    // another instance keeps refreshing them.
    if (this.config.store.kind === 'memory') {
      const all = await this.store.claimDue(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, LEASE_MS);
      await Promise.all(all.map((reg) => this.registrations.unbind(reg)));
      if (all.length > 0) this.logger.info({ count: all.length }, 'removed SIP bindings at shutdown');
    }
  }

  /** One pass over due registrations; overlapping passes are skipped. Never throws. */
  async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = (async () => {
      try {
        for (let batch = 0; batch < MAX_BATCHES_PER_PASS && !this.stopped; batch++) {
          const due = await this.store.claimDue(this.clock.now(), BATCH, LEASE_MS);
          await Promise.all(due.map((reg) => this.handle(reg)));
          if (due.length < BATCH) break;
        }
      } catch (err) {
        this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'registration refresh pass failed');
      }
    })();
    await this.running;
    this.running = undefined;
  }

  private async handle(reg: Registration): Promise<void> {
    // fields on each line rather than a child logger per registration (a child costs more than the lines)
    const registrationId = reg.registrationId;
    const now = this.clock.now();
    if (reg.expiresAt <= now) {
      if (await this.store.delete(reg.registrationId, reg.version)) {
        await this.registrations.unbind(reg);
        await this.registrations.ended(reg, 'REGISTRATION_EXPIRED', 'registrationExpireTime has been reached.');
        this.logger.info({ registrationId }, 'registration expired; binding removed');
      }
      return;
    }
    const credentials = this.credentials.get(reg.phoneNumber);
    if (!credentials) {
      await this.terminate(reg, 'No SIP credentials are provisioned any more for this subscriber.');
      return;
    }
    // the `reg` subscription alone is due (RFC 3680): SUBSCRIBE, leave the binding as it is
    if (!registerDue(reg, now)) {
      await this.regEvents.start(reg, credentials);
      return;
    }
    try {
      const grant = await this.sip.register({
        ...this.registrations.targetOf(reg, credentials),
        expiresS: requestedExpiresS(now, reg.expiresAt, this.config.sip.registerExpiresS),
      });
      const done = this.clock.now();
      const refreshed = (r: Registration): Registration =>
        schedule({ ...r, binding: grant.binding, networkExpiresAt: done + grant.grantedExpiresS * 1000, refreshFailures: 0 }, Math.min(r.expiresAt, refreshAt(done, grant.grantedExpiresS)));
      // a reg NOTIFY or SUBSCRIBE may have changed the record meanwhile: keep our binding (its CSeq) on the fresh one
      const saved = (await this.store.update(refreshed(reg), reg.version)) ?? (await this.onFresh(reg.registrationId, (fresh) => fresh.binding.cseq <= grant.binding.cseq && refreshed(fresh)));
      this.logger.debug({ registrationId, grantedExpiresS: grant.grantedExpiresS, saved: saved !== undefined }, 'registration refreshed');
      if (saved && subscriptionDue(saved, this.clock.now())) await this.regEvents.start(saved, credentials);
    } catch (err) {
      this.telemetry?.registrationRefreshFailed(err instanceof SipFailure ? err.kind : 'transport');
      if (err instanceof SipFailure && err.kind === 'rejected') {
        await this.terminate(reg, `The IMS core refused the refresh (${err.status ?? ''} ${err.reason ?? ''}).`);
        return;
      }
      const failures = reg.refreshFailures + 1;
      if (reg.networkExpiresAt <= this.clock.now()) {
        // The binding lapsed in the network while we could not reach it: the gateway lost it.
        await this.terminate(reg, 'The gateway could not refresh the registration before the network expired it.');
        return;
      }
      this.logger.warn({ registrationId, failures, err: err instanceof Error ? err.message : String(err) }, 'registration refresh failed; will retry');
      await this.store
        .update(schedule({ ...reg, refreshFailures: failures }, Math.min(reg.networkExpiresAt, this.clock.now() + retryDelayMs(failures))), reg.version)
        .catch((e: unknown) => this.logger.warn({ registrationId, err: e instanceof Error ? e.message : String(e) }, 'could not record refresh failure'));
    }
  }

  /** Writes `change(fresh)` over the record as it is now (once; a second conflict gives up: the next pass retries). */
  private async onFresh(registrationId: string, change: (fresh: Registration) => Registration | false): Promise<Registration | undefined> {
    const fresh = await this.store.get(registrationId);
    const next = fresh && change(fresh);
    return fresh && next ? this.store.update(next, fresh.version) : undefined;
  }

  private async terminate(reg: Registration, description: string): Promise<void> {
    if (await this.store.delete(reg.registrationId, reg.version)) {
      await this.registrations.ended(reg, 'NETWORK_TERMINATED', description);
      this.logger.warn({ registrationId: reg.registrationId, description }, 'registration ended by the network');
    }
  }
}

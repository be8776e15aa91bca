import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { Clock } from '../common/clock';
import { RegEventState, Registration, RegistrationStore } from '../store/registration-store';
import { RegEventNotification, RegEventReply, RegEventTarget, SipCredentials, SipFailure, SipGateway } from '../sip/sip-gateway';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { preferredIdentity } from '../sip/ims-registration';
import { decideRegEvent, RegEventDecision } from './reg-event-decision';
import { REG_EVENT_EXPIRES_S, schedule } from './reg-event-schedule';
import { refreshAt, requestedExpiresS, retryDelayMs } from './registration-timing';
import { RegistrationsService } from './registrations.service';

/** How long a SUBSCRIBE (or a re-registration) may take before another pass tries again: 64·T1 and a margin. */
const IN_FLIGHT_MS = 40_000;
/** After a final refusal of the SUBSCRIBE (e.g. 489 Bad Event: no `reg` package there), try again this much later. */
const REFUSED_RETRY_MS = 10 * 60_000;
/** Compare-and-set attempts before giving up on one change. */
const ATTEMPTS = 3;

/**
 * The `reg` event subscription of IMS registrations (RFC 3680, RFC 6665; 3GPP TS 24.229 §5.1.1.3
 * and §5.1.1.7): SUBSCRIBE after the registration and before the subscription lapses (driven by
 * the RegistrationRefresher through the store's due index), and the NOTIFYs, which may end the
 * registration (`registration-ends`, NETWORK_TERMINATED), re-register it, or shorten it. Never
 * fails a registration: a SUBSCRIBE that fails is retried later.
 */
@Injectable()
export class RegEvents implements OnModuleInit {
  /** Registrations with a SUBSCRIBE of this instance under way: their first NOTIFY may come before the 2xx is stored (RFC 6665 §4.1.2.4). */
  private readonly inFlight = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly store: RegistrationStore,
    private readonly sip: SipGateway,
    private readonly credentials: SipCredentialsProvider,
    private readonly registrations: RegistrationsService,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
  ) {}

  onModuleInit(): void {
    // with `plain` nobody listens: the SIP layer answers every NOTIFY 481
    if (this.config.sip.imsProfile === 'ims') this.sip.on('reg.notify', (n, reply) => void this.onNotify(n, reply));
  }

  /** Waits for the SUBSCRIBEs and re-registrations under way (tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /**
   * Shutdown: what is under way gets `graceMs` to finish; a SUBSCRIBE left unanswered is not
   * waited for (its transaction could take 64·T1) and stores nothing afterwards: the subscription
   * is due again in the store, so the next instance to claim it subscribes anew.
   */
  async stop(graceMs = 1000): Promise<void> {
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    await Promise.race([this.settle(), grace]);
    clearTimeout(timer);
  }

  /**
   * The refresher claimed `reg` and its SUBSCRIBE is due: marks it under way (so the due index
   * moves on and no other pass sends it again), then subscribes in the background.
   */
  async start(reg: Registration, credentials: SipCredentials): Promise<void> {
    const ev = reg.regEvent;
    if (!ev || this.stopped) return;
    if (this.config.sip.imsProfile !== 'ims') {
      // SIP_IMS_PROFILE changed to plain since this registration was made: it keeps no subscription
      const { regEvent: _dropped, ...plain } = reg;
      await this.store.update({ ...plain, dueAt: ev.registerDueAt }, reg.version);
      return;
    }
    const marked = await this.store.update(schedule({ ...reg, regEvent: { ...ev, dueAt: this.clock.now() + IN_FLIGHT_MS } }, ev.registerDueAt), reg.version);
    if (!marked) return;
    this.inFlight.add(reg.registrationId);
    this.track(this.subscribe(marked, credentials).finally(() => this.inFlight.delete(reg.registrationId)));
  }

  private track(p: Promise<void>): void {
    const done = p.catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'reg event work failed'));
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  private async subscribe(reg: Registration, credentials: SipCredentials): Promise<void> {
    const ev = reg.regEvent as RegEventState;
    const ims = reg.binding.ims;
    const identity = ims && preferredIdentity(ims.associatedUris, reg.phoneNumber);
    const target: RegEventTarget = {
      registrationId: reg.registrationId,
      phoneNumber: reg.phoneNumber,
      expiresS: REG_EVENT_EXPIRES_S,
      credentials,
      ...(ims && ims.serviceRoute.length > 0 && { route: ims.serviceRoute }),
      ...(identity !== undefined && { preferredIdentity: identity }),
      // RFC 6665 §4.1.2.2: a subscription that lapsed (refreshes failed until its expiry) is not refreshed but made anew
      ...(ev.dialog && (ev.expiresAt === undefined || ev.expiresAt > this.clock.now()) && { dialog: ev.dialog }),
    };
    const before = ev.dialog?.callId;
    try {
      const grant = await this.sip.subscribeRegEvent(target);
      const now = this.clock.now();
      await this.patch(reg, before, (cur) => ({ ...cur, dialog: grant.dialog, expiresAt: now + grant.expiresS * 1000, dueAt: refreshAt(now, grant.expiresS), failures: 0 }));
      this.logger.info({ registrationId: reg.registrationId, grantedExpiresS: grant.expiresS, refresh: before !== undefined }, 'subscribed to the reg event package');
    } catch (err) {
      const failures = ev.failures + 1;
      const status = err instanceof SipFailure ? err.status : undefined;
      const now = this.clock.now();
      // RFC 6665 §4.1.2.2: 481 to a refresh: the subscription is gone; subscribe anew at once
      const gone = ev.dialog !== undefined && status === 481;
      const retryAt = gone ? now : now + (err instanceof SipFailure && err.kind !== 'rejected' ? retryDelayMs(failures) : REFUSED_RETRY_MS);
      this.logger.warn(
        { registrationId: reg.registrationId, failures, status, err: err instanceof Error ? err.message : String(err), retryInS: Math.round((retryAt - now) / 1000) },
        'SUBSCRIBE to the reg event package failed; will retry',
      );
      await this.patch(reg, before, (cur) => {
        const next: RegEventState = { ...cur, failures, dueAt: retryAt };
        if (gone) {
          delete next.dialog;
          delete next.expiresAt;
        }
        return next;
      });
    }
  }

  /**
   * Changes the stored subscription (compare-and-set, re-read on conflict) unless another one
   * replaced it meanwhile. The first attempt writes over `known` (the record as this instance
   * last stored it) without reading it back; a conflict re-reads.
   */
  private async patch(known: Registration, dialogCallId: string | undefined, change: (ev: RegEventState) => RegEventState): Promise<Registration | undefined> {
    if (this.stopped) return undefined;
    const registrationId = known.registrationId;
    for (let i = 0; i < ATTEMPTS; i++) {
      const cur = i === 0 ? known : await this.store.get(registrationId);
      const ev = cur?.regEvent;
      if (!cur || !ev || ev.dialog?.callId !== dialogCallId) return undefined;
      const saved = await this.store.update(schedule({ ...cur, regEvent: change(ev) }, ev.registerDueAt), cur.version);
      if (saved) return saved;
    }
    this.logger.warn({ registrationId }, 'could not store the reg subscription (concurrent changes)');
    return undefined;
  }

  private async onNotify(n: RegEventNotification, reply: RegEventReply): Promise<void> {
    try {
      await this.applyNotify(n, reply);
    } catch (err) {
      // a store fault: the notifier may retry (RFC 3261 §21.5.1); never 481 for a fault of ours
      this.logger.warn({ registrationId: n.registrationId, err: err instanceof Error ? err.message : String(err) }, 'reg NOTIFY could not be applied');
      reply.unavailable(5);
    }
  }

  private async applyNotify(n: RegEventNotification, reply: RegEventReply): Promise<void> {
    for (let i = 0; i < ATTEMPTS; i++) {
      const now = this.clock.now();
      const reg = await this.store.get(n.registrationId);
      const ev = reg?.regEvent;
      // RFC 6665 §4.1.3: no such subscription → 481 (the notifier ends it)
      if (!reg || reg.expiresAt <= now || !ev || !this.matches(reg.registrationId, ev, n)) return reply.unknownSubscription();
      const decision = decideRegEvent(n.reginfo, n.subscriptionState, {
        aor: `sip:${reg.phoneNumber}@${this.config.sip.domain}`,
        contact: reg.binding.contact,
        instance: `<urn:uuid:${reg.deviceId}>`,
        ...(ev.version?.callId === n.callId && { lastVersion: ev.version.value }),
      });
      const { contact } = decision;
      if (contact.kind === 'end') {
        if (!(await this.store.delete(reg.registrationId, reg.version))) continue;
        reply.accept();
        // the binding is gone in the network already: no un-REGISTER (TS 24.229 §5.1.1.7)
        await this.registrations.ended(reg, 'NETWORK_TERMINATED', `The IMS core ended the registration (reg event: ${contact.event}).`);
        this.logger.warn({ registrationId: reg.registrationId, event: contact.event }, 'registration ended by the network (reg event)');
        return;
      }
      const saved = await this.store.update(this.applied(reg, ev, n, decision, now), reg.version);
      if (!saved) continue;
      reply.accept();
      if (contact.kind === 're-register') this.track(this.reRegister(saved, contact.event));
      if (contact.kind === 'shorten') this.logger.info({ registrationId: reg.registrationId, expiresS: contact.expiresS }, 'registration shortened by the network (reg event)');
      return;
    }
    reply.unavailable(1);
  }

  /** The stored subscription's dialog, or — before its 2xx is stored — a SUBSCRIBE of ours under way. */
  private matches(registrationId: string, ev: RegEventState, n: RegEventNotification): boolean {
    if (ev.dialog) return ev.dialog.callId === n.callId && ev.dialog.localTag === n.localTag;
    return this.inFlight.has(registrationId);
  }

  private applied(reg: Registration, ev: RegEventState, n: RegEventNotification, d: RegEventDecision, now: number): Registration {
    const next: RegEventState = { ...ev };
    if (d.version !== undefined) next.version = { callId: n.callId, value: d.version };
    const sub = d.subscription;
    if (sub.kind === 'keep' && sub.expiresS !== undefined) {
      // RFC 6665 §4.1.3: the notifier may shorten the subscription
      next.expiresAt = now + sub.expiresS * 1000;
      next.dueAt = Math.min(next.dueAt ?? Number.POSITIVE_INFINITY, refreshAt(now, sub.expiresS));
    } else if (sub.kind !== 'keep') {
      delete next.dialog;
      delete next.expiresAt;
      // RFC 6665 §4.1.3: re-subscribe unless the reason says not to (rejected, noresource)
      if (sub.kind === 'resubscribe') next.dueAt = now + sub.afterS * 1000;
      else delete next.dueAt;
    }
    // RFC 3680 §5.2: a gap in the versions of partial documents: a refresh brings a full state
    if (d.resync && next.dialog) next.dueAt = now;
    let registerDueAt = ev.registerDueAt;
    let networkExpiresAt = reg.networkExpiresAt;
    if (d.contact.kind === 'shorten') {
      networkExpiresAt = Math.min(networkExpiresAt, now + d.contact.expiresS * 1000);
      registerDueAt = Math.min(registerDueAt, refreshAt(now, d.contact.expiresS));
    } else if (d.contact.kind === 're-register') {
      // the re-registration is under way: the refresher leaves the old binding alone meanwhile
      registerDueAt = now + IN_FLIGHT_MS;
    }
    return schedule({ ...reg, networkExpiresAt, regEvent: next }, registerDueAt);
  }

  /** TS 24.229 §5.1.1.7: `deactivated` / `probation`: an initial registration (new Call-ID); if it fails, the registration ends. */
  private async reRegister(reg: Registration, event: string): Promise<void> {
    const credentials = this.credentials.get(reg.phoneNumber);
    try {
      if (!credentials) throw new Error('no SIP credentials are provisioned any more');
      const now = this.clock.now();
      const grant = await this.sip.register({
        registrationId: reg.registrationId,
        phoneNumber: reg.phoneNumber,
        deviceId: reg.deviceId,
        expiresS: requestedExpiresS(now, reg.expiresAt, this.config.sip.registerExpiresS),
        credentials,
      });
      const done = this.clock.now();
      for (let i = 0; i < ATTEMPTS; i++) {
        const cur = await this.store.get(reg.registrationId);
        if (!cur) return;
        const next = { ...cur, binding: grant.binding, networkExpiresAt: done + grant.grantedExpiresS * 1000, refreshFailures: 0 };
        if (await this.store.update(schedule(next, Math.min(cur.expiresAt, refreshAt(done, grant.grantedExpiresS))), cur.version)) break;
      }
      this.logger.info({ registrationId: reg.registrationId, event, grantedExpiresS: grant.grantedExpiresS }, 'registered again after the reg event');
    } catch (err) {
      const why = err instanceof SipFailure && err.status !== undefined ? `${err.status} ${err.reason ?? ''}`.trim() : err instanceof Error ? err.message : String(err);
      const cur = await this.store.get(reg.registrationId);
      if (cur && (await this.store.delete(cur.registrationId, cur.version))) {
        await this.registrations.ended(cur, 'NETWORK_TERMINATED', `The IMS core ended the registration (reg event: ${event}); registering again failed (${why}).`);
        this.logger.warn({ registrationId: reg.registrationId, event, why }, 'registration ended: re-registration after the reg event failed');
      }
    }
  }
}

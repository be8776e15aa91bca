import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { Cluster } from '../cluster/cluster';
import { EventPublisher } from '../events/event-publisher';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { SipGateway } from '../sip/sip-gateway';
import { MediaSession } from '../store/session-store';
import { IncomingCalls } from './incoming-calls';
import { Action, PHASE } from './session-status';
import { SessionTransitions } from './session-transitions';
import { SessionUpdates } from './session-updates';

/**
 * Sessions whose owner instance is gone (issue 15). A survivor told by the cluster that an
 * instance's lease lapsed takes each of its sessions with a compare-and-set on the stored record
 * (only while the record still names the lost owner, so two survivors never both take one):
 * established calls change owner, get a target refresh from here (so the far end's requests come
 * here) and run their stored session timer here; calls in setup are ended (`owner-lost` in
 * session-status.ts: CANCEL, or 480 to the incoming INVITE, from the stored request when the lost
 * instance held it) with `Failed` and a session-status event. The lost instance's event-delivery
 * leases are released first, so that these events go out at once.
 *
 * At a graceful drain the instance does the same to its own calls in setup before releasing its
 * lease (it still holds their transactions, so an incoming INVITE gets its 480); its established
 * calls are left to the survivor that adopts them.
 */
@Injectable()
export class SessionAdoption implements OnModuleInit {
  constructor(
    private readonly cluster: Cluster,
    private readonly transitions: SessionTransitions,
    private readonly incoming: IncomingCalls,
    private readonly sip: SipGateway,
    private readonly credentials: SipCredentialsProvider,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
    private readonly updates: SessionUpdates,
    private readonly events: EventPublisher,
  ) {}

  onModuleInit(): void {
    this.cluster.onOwnerLost((owner) => this.adopt(owner));
    this.cluster.onDrain(() => this.handOver());
  }

  /** Takes every active session of `owner`; resolves once each was taken or found taken. */
  async adopt(owner: string): Promise<void> {
    const me = this.cluster.instanceId;
    // its deliveries first: the events of the sessions taken below are queued behind them
    const released = await this.events.releaseDeliveriesOf(owner).catch((err: unknown) => {
      this.logger.warn({ err, lostInstance: owner }, 'could not release the event deliveries of a lost instance; they wait for their leases');
      return 0;
    });
    const ids = await this.cluster.activeSessionIds();
    let taken = 0;
    for (const id of ids) {
      const s = await this.transitions.load(id, true);
      if (!s || s.owner !== owner || PHASE[s.status] === 'final') continue;
      if (await this.take(s, owner, me, `gateway instance ${owner} was lost during call setup`)) taken++;
    }
    this.logger.info({ lostInstance: owner, taken, deliveriesReleased: released }, 'sessions of a lost gateway instance adopted');
  }

  /** Drain: ends this instance's calls in setup (it still holds their transactions). */
  async handOver(): Promise<void> {
    const me = this.cluster.instanceId;
    const ids = new Set([...this.transitions.driven(), ...(await this.cluster.activeSessionIds().catch(() => []))]);
    for (const id of ids) {
      const s = await this.transitions.load(id, true).catch(() => undefined);
      if (!s || (s.owner !== undefined && s.owner !== me) || PHASE[s.status] !== 'early') continue;
      await this.take(s, s.owner, me, 'the gateway instance is shutting down').catch((err: unknown) => this.transitions.warn(id, 'could not end a call in setup at drain', err));
    }
  }

  /** `owner-lost` for one session, stored only while it still names `from`; then its network actions. */
  private async take(s: MediaSession, from: string | undefined, to: string, why: string): Promise<boolean> {
    const id = s.mediaSessionId;
    const { decision, session } = await this.transitions.serial(id, () =>
      this.transitions.handle(id, { kind: 'owner-lost', why }, { view: { holdsInvite: this.incoming.holds(id) }, only: (x) => x.owner === from, edit: (x) => ({ ...x, owner: to }) }),
    );
    if (decision?.kind !== 'go' || !session) return false;
    this.perform(decision.actions, session);
    // an established call adopted from a lost instance (not at our own drain): moved here on the network
    if (from !== to && PHASE[session.status] === 'established' && session.dialog)
      void this.updates.afterAdoption(id).catch((err: unknown) => this.transitions.warn(id, 'target refresh after adoption failed', err));
    return true;
  }

  /** Best effort, not awaited: a CANCEL's answer goes to the lost instance (the INVITE's Via), so it never comes here. */
  private perform(actions: readonly Action[], s: MediaSession): void {
    const id = s.mediaSessionId;
    for (const a of actions) {
      if (a.kind === 'hang-up' && s.dialog) void this.sip.hangUp(s.dialog, this.credentials.get(s.phoneNumber)).catch((err: unknown) => this.transitions.warn(id, 'hang-up failed', err));
      else if (a.kind === 'reject' && this.incoming.holds(id)) this.incoming.perform([a], s);
      // the INVITE's transaction died with its instance: answered from the request stored with the dialog
      else if (a.kind === 'reject' && !(s.dialog && this.sip.rejectStored(s.dialog, a.cause))) this.transitions.warn(id, 'no stored INVITE to answer: the caller is left to its timer', undefined);
    }
  }
}

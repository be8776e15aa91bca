import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { Cluster } from '../cluster/cluster';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { SipGateway } from '../sip/sip-gateway';
import { MediaSession } from '../store/session-store';
import { IncomingCalls } from './incoming-calls';
import { Action, PHASE } from './session-status';
import { SessionTransitions } from './session-transitions';

/**
 * Sessions whose owner instance is gone (issue 15). A survivor told by the cluster that an
 * instance's lease lapsed takes each of its sessions with a compare-and-set on the stored record
 * (only while the record still names the lost owner, so two survivors never both take one):
 * established calls just change owner and stay controllable here (their dialog is in the store);
 * calls in setup are ended (`owner-lost` in session-status.ts: CANCEL, or 480 when this instance
 * holds the INVITE) with `Failed` and a session-status event.
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
  ) {}

  onModuleInit(): void {
    this.cluster.onOwnerLost((owner) => this.adopt(owner));
    this.cluster.onDrain(() => this.handOver());
  }

  /** Takes every active session of `owner`; resolves once each was taken or found taken. */
  async adopt(owner: string): Promise<void> {
    const me = this.cluster.instanceId;
    const ids = await this.cluster.activeSessionIds();
    let taken = 0;
    for (const id of ids) {
      const s = await this.transitions.load(id, true);
      if (!s || s.owner !== owner || PHASE[s.status] === 'final') continue;
      if (await this.take(s, owner, me, `gateway instance ${owner} was lost during call setup`)) taken++;
    }
    this.logger.info({ lostInstance: owner, taken }, 'sessions of a lost gateway instance adopted');
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
    return true;
  }

  /** Best effort, not awaited: a CANCEL's answer goes to the lost instance (the INVITE's Via), so it never comes here. */
  private perform(actions: readonly Action[], s: MediaSession): void {
    for (const a of actions) {
      if (a.kind === 'hang-up' && s.dialog) void this.sip.hangUp(s.dialog, this.credentials.get(s.phoneNumber)).catch((err: unknown) => this.transitions.warn(s.mediaSessionId, 'hang-up failed', err));
      else if (a.kind === 'reject') this.incoming.perform([a], s);
    }
  }
}

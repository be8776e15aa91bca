import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { WebrtcEventType } from '../domain/webrtc-event-type';
import { Cluster } from '../cluster/cluster';
import { EventPublisher } from '../events/event-publisher';
import { RegistrationsService } from '../registrations/registrations.service';
import { IncomingCall, NameAddr, RejectCause, SipGateway } from '../sip/sip-gateway';
import { MediaSession } from '../store/session-store';
import { isQuotaExceeded } from '../store/quota';
import { camaraAddressOf } from './address';
import { parseAppSdp } from './app-sdp';
import { MediaSessionStatusChange } from './dto/media-session.dto';
import { toEventData } from './media-session.mapper';
import { Action, assertNever } from './session-status';
import { SessionQuota } from './session-quota';
import { SessionTransitions } from './session-transitions';

/**
 * `reason` of a session-invitation whose caller is only the From header (no P-Asserted-Identity
 * from the trust domain, RFC 3325 §9.1). The webrtc-events MediaSession has no identity-assurance
 * field, so the existing free-text `reason` says it (see README, SIP conformance).
 */
export const UNVERIFIED_CALLER = 'originator not verified: no P-Asserted-Identity from a trusted peer (RFC 3325)';

/**
 * Safety net only: the SIP layer reports the ACK (`call.confirmed`) or its absence after 64·T1
 * (`call.unconfirmed`, RFC 3261 §13.3.1.4), so PUT Connected returns with one of them. This bound
 * only keeps a request from hanging if neither ever came.
 */
const ACK_WAIT_LIMIT_MS = 64 * 500 + 10_000;

/**
 * Calls the network offers to the app (we are the UAS): the INVITE becomes a session and a
 * session-invitation event; the app rings, answers or declines with PUT /status; the caller may
 * CANCEL; the ACK connects the call. The INVITE transaction lives on the instance that received it.
 */
@Injectable()
export class IncomingCalls {
  /** Incoming INVITEs this instance holds, waiting for the app's answer: mediaSessionId → key. */
  private readonly pending = new Map<string, string>();
  /** PUT Connected waits for the ACK of our 2xx, or for its absence: callId → resolve. */
  private readonly ackWaiters = new Map<string, () => void>();

  constructor(
    private readonly config: AppConfig,
    private readonly transitions: SessionTransitions,
    private readonly sip: SipGateway,
    private readonly registrations: RegistrationsService,
    private readonly events: EventPublisher,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
    private readonly quota: SessionQuota,
    @Optional() private readonly cluster?: Cluster,
  ) {}

  /** Whether this instance still holds the session's INVITE (so it can answer it). */
  holds(id: string): boolean {
    return this.pending.has(id);
  }

  /**
   * An INVITE for one of our registrations: a new session and a session-invitation event. Nobody
   * to tell (no registration, no subscription) is 480. An INVITE without an offer (3PCC,
   * click-to-dial) is offered too: the invitation has no `offer`, the app makes one in PUT
   * Connected and the ACK brings the answer (RFC 3261 §13.2.1).
   */
  async offer(inc: IncomingCall): Promise<void> {
    const log = this.logger.child({ callId: inc.dialog.callId, registrationId: inc.contactUser });
    if (this.cluster?.draining) {
      log.info('incoming call while this instance is draining: refused as unavailable');
      this.sip.reject(inc.key, 'unavailable');
      return;
    }
    const reg = await this.registrations.active(inc.contactUser);
    if (!reg) {
      log.info('incoming call for an unknown or expired registration: refused as unavailable');
      this.sip.reject(inc.key, 'unavailable');
      return;
    }
    const audience = { phoneNumber: reg.phoneNumber, deviceId: reg.deviceId };
    if (!(await this.events.hasSubscribers(audience, WebrtcEventType.sessionInvitation))) {
      log.info('incoming call but the device has no session-invitation subscription: refused as unavailable');
      this.sip.reject(inc.key, 'unavailable');
      return;
    }
    const now = this.clock.now();
    // RFC 3325: the SIP layer passes P-Asserted-Identity only from trusted peers; without it the From is unverified
    const caller: NameAddr = inc.assertedIdentity ?? inc.from;
    const session: MediaSession = {
      mediaSessionId: randomUUID(),
      direction: 'incoming',
      phoneNumber: reg.phoneNumber,
      registrationId: reg.registrationId,
      deviceId: reg.deviceId,
      originatorAddress: camaraAddressOf(caller.uri),
      ...(caller.displayName !== undefined && { originatorName: caller.displayName.slice(0, 256) }),
      receiverAddress: `tel:${reg.phoneNumber}`,
      ...(inc.to.displayName !== undefined && { receiverName: inc.to.displayName.slice(0, 256) }),
      callType: 'REGULAR',
      status: 'Initial',
      // NOTE: offerless INVITE: no offer yet ('' is "none" in the store; events leave `offer` out, webrtc-events §1)
      offer: inc.sdp ?? '',
      ...(inc.sdp !== undefined && { remoteSdp: inc.sdp }),
      dialog: inc.dialog,
      sequenceNumber: 0,
      createdAt: now,
      updatedAt: now,
      version: 0,
    };
    const id = session.mediaSessionId;
    // QUOTA_SESSIONS_PER_NUMBER, checked by the store with the insert (RFC 3261 §21.4.24: 486 Busy Here)
    const stored = await this.transitions.create(session, this.quota.capFor(session.callType));
    if (isQuotaExceeded(stored)) {
      this.quota.busy();
      log.info('incoming call but the subscriber has the most sessions allowed in progress: busy');
      this.sip.reject(inc.key, 'busy');
      return;
    }
    this.pending.set(id, inc.key);
    this.transitions.kpis.started(id, 'incoming');
    const invitation = toEventData(stored);
    await this.events.publish(audience, WebrtcEventType.sessionInvitation, inc.assertedIdentity ? invitation : { ...invitation, reason: UNVERIFIED_CALLER });
    this.transitions.armRingTimer(id, () => this.onRingTimeout(id));
    log.info({ mediaSessionId: id, from: session.originatorAddress }, 'incoming call offered to the app');
  }

  /** A store or events fault must not leave the caller hanging: 500 lets the network try elsewhere. */
  refuse(inc: IncomingCall, err: unknown): void {
    this.transitions.warn(undefined, 'incoming call could not be offered', err);
    this.sip.reject(inc.key, 'error');
  }

  /** The caller gave up (CANCEL): the SIP layer answered 487; the session is SessionCancelled. */
  async onCallerCancelled(key: string): Promise<void> {
    const id = [...this.pending].find(([, k]) => k === key)?.[0];
    if (!id) return;
    this.pending.delete(id);
    await this.transitions.serial(id, () => this.transitions.handle(id, { kind: 'caller-cancelled' }));
  }

  /**
   * The ACK for our 2xx (or its absence: the SIP layer already sent BYE). `sdp` is the ACK's body:
   * the answer when our 2xx carried the offer (offerless INVITE).
   */
  async onAck(callId: string, localTag: string, acked: boolean, sdp?: string): Promise<void> {
    try {
      const s = await this.transitions.findByDialog(callId, localTag);
      if (s?.direction !== 'incoming') return;
      const id = s.mediaSessionId;
      const { decision, session } = await this.transitions.serial(id, () =>
        this.transitions.handle(id, acked ? { kind: 'ack', hasSdp: sdp !== undefined && sdp !== '' } : { kind: 'no-ack' }, {
          ...(acked && {
            edit: (x: MediaSession, d) => ({
              ...x,
              ...(x.dialog && { dialog: { ...x.dialog, state: 'confirmed' as const } }),
              ...(d.storeAnswer && sdp !== undefined && { answer: sdp, remoteSdp: sdp }),
            }),
          }),
        }),
      );
      // an ACK without the answer to our offer: the SIP dialog is up, so it is ended with BYE
      if (decision?.kind === 'go' && session?.dialog && decision.actions.some((a) => a.kind === 'hang-up')) await this.sip.hangUp(session.dialog);
    } finally {
      this.ackWaiters.get(callId)?.();
    }
  }

  /**
   * The callee's app rings, answers or declines the call this instance holds (runs in the
   * session's queue). Resolves with a wait for the ACK when it answered 200.
   */
  async answer(s: MediaSession, body: MediaSessionStatusChange, log?: RootLogger): Promise<{ acked: Promise<void> } | undefined> {
    const id = s.mediaSessionId;
    // an offerless INVITE is accepted with the app's offer, any other with its answer
    const offerless = s.remoteSdp === undefined;
    const given = offerless ? body.offer : body.answer;
    const field = offerless ? 'offer' : 'answer';
    const sdp = given?.sdp !== undefined ? parseAppSdp(given.sdp, this.config.sdp.profile, `${field}.sdp`, offerless ? undefined : s.remoteSdp) : undefined;
    const { decision, session } = await this.transitions.handle(
      id,
      {
        kind: 'app-status',
        status: body.status,
        hasOffer: body.offer !== undefined,
        hasAnswer: body.answer !== undefined,
        hasLocation: body.locationDetails !== undefined,
      },
      { session: s, view: { holdsInvite: this.holds(id) }, edit: (x) => (sdp ? { ...x, [field]: sdp, localSdp: sdp } : x), log },
    );
    if (decision?.kind !== 'go' || !session) return undefined;
    const answering = decision.actions.some((a) => a.kind === 'answer');
    const acked = answering ? this.waitAck(session.dialog?.callId ?? '') : undefined;
    this.perform(decision.actions, session, sdp, log);
    return acked && { acked };
  }

  /** Actions on the pending INVITE; `sdp` is the app's answer given with this request. */
  perform(actions: readonly Action[], s: MediaSession, sdp?: string, log: RootLogger = this.logger): void {
    const id = s.mediaSessionId;
    for (const a of actions) {
      const key = this.pending.get(id);
      if (!key) {
        log.warn({ mediaSessionId: id, action: a.kind }, 'no pending INVITE on this instance to answer');
        return;
      }
      switch (a.kind) {
        case 'progress':
          this.sip.progress(key, { kind: a.progress, ...(sdp !== undefined && { sdp }) });
          break;
        case 'answer':
          this.pending.delete(id);
          this.sip.answer(key, sdp ?? s.localSdp ?? s.answer ?? '');
          break;
        case 'reject':
          this.reject(id, key, a.cause);
          break;
        case 'hang-up':
        case 'modify':
        case 'send-location':
        case 'accept-offer':
        case 'offer-pending':
          // our own code asked for something an incoming call in setup cannot do: a bug
          throw new Error(`incoming call: unexpected action ${a.kind}`);
        default:
          assertNever(a);
      }
    }
  }

  private reject(id: string, key: string, cause: RejectCause): void {
    this.pending.delete(id);
    this.sip.reject(key, cause);
  }

  private async onRingTimeout(id: string): Promise<void> {
    const { decision, session } = await this.transitions.handle(id, { kind: 'ring-timeout' }, { view: { holdsInvite: this.holds(id) } });
    if (decision?.kind === 'go' && session) this.perform(decision.actions, session);
  }

  /** Resolves once the ACK (or the SIP layer's report of its absence) was applied to the session. */
  private waitAck(callId: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        if (this.ackWaiters.get(callId) === done) this.ackWaiters.delete(callId);
        resolve();
      };
      const t = setTimeout(() => {
        this.logger.warn({ callId }, 'neither ACK nor its timeout reported in time; PUT Connected answers with the current status');
        done();
      }, ACK_WAIT_LIMIT_MS);
      t.unref();
      this.ackWaiters.set(callId, done);
    });
  }
}

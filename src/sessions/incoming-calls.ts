import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { WebrtcEventType } from '../domain/webrtc-event-type';
import { EventPublisher } from '../events/event-publisher';
import { RegistrationsService } from '../registrations/registrations.service';
import { IncomingCall, NameAddr, RejectCause, SipGateway } from '../sip/sip-gateway';
import { MediaSession } from '../store/session-store';
import { camaraAddressOf } from './address';
import { parseAppSdp } from './app-sdp';
import { MediaSessionStatusChange } from './dto/media-session.dto';
import { toEventData } from './media-session.mapper';
import { Action, assertNever } from './session-status';
import { SessionTransitions } from './session-transitions';

/** How long PUT Connected waits for the caller's ACK before it answers anyway. */
const ACK_WAIT_MS = 2000;

/**
 * Calls the network offers to the app (we are the UAS): the INVITE becomes a session and a
 * session-invitation event; the app rings, answers or declines with PUT /status; the caller may
 * CANCEL; the ACK connects the call. The INVITE transaction lives on the instance that received it.
 */
@Injectable()
export class IncomingCalls {
  /** Incoming INVITEs this instance holds, waiting for the app's answer: mediaSessionId → key. */
  private readonly pending = new Map<string, string>();
  /** PUT Connected waits (briefly) for the ACK of our 2xx: callId → resolve. */
  private readonly ackWaiters = new Map<string, () => void>();

  constructor(
    private readonly config: AppConfig,
    private readonly transitions: SessionTransitions,
    private readonly sip: SipGateway,
    private readonly registrations: RegistrationsService,
    private readonly events: EventPublisher,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
  ) {}

  /** Whether this instance still holds the session's INVITE (so it can answer it). */
  holds(id: string): boolean {
    return this.pending.has(id);
  }

  /**
   * An INVITE for one of our registrations: a new session and a session-invitation event. Nobody
   * to tell (no registration, no subscription) is 480; an INVITE without an offer is 488.
   */
  async offer(inc: IncomingCall): Promise<void> {
    const reg = await this.registrations.active(inc.contactUser);
    const log = this.logger.child({ callId: inc.dialog.callId, registrationId: inc.contactUser });
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
    if (!inc.sdp) {
      // NOTE: offerless INVITEs would need the app to make the offer; the CAMARA flow has the app answer.
      log.info('incoming INVITE without SDP offer: refused as not acceptable');
      this.sip.reject(inc.key, 'not-acceptable');
      return;
    }
    const now = this.clock.now();
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
      offer: inc.sdp,
      remoteSdp: inc.sdp,
      dialog: inc.dialog,
      sequenceNumber: 0,
      createdAt: now,
      updatedAt: now,
      version: 0,
    };
    const id = session.mediaSessionId;
    const stored = await this.transitions.create(session);
    this.pending.set(id, inc.key);
    this.transitions.kpis.started(id, 'incoming');
    await this.events.publish(audience, WebrtcEventType.sessionInvitation, toEventData(stored));
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

  /** The ACK for our 2xx (or its absence: the SIP layer already sent BYE). */
  async onAck(callId: string, localTag: string, acked: boolean): Promise<void> {
    const s = await this.transitions.findByDialog(callId, localTag);
    if (s?.direction === 'incoming') {
      const id = s.mediaSessionId;
      await this.transitions.serial(id, () =>
        this.transitions.handle(id, acked ? { kind: 'ack' } : { kind: 'no-ack' }, {
          ...(acked && { edit: (x: MediaSession) => ({ ...x, ...(x.dialog && { dialog: { ...x.dialog, state: 'confirmed' as const } }) }) }),
        }),
      );
    }
    this.ackWaiters.get(callId)?.();
  }

  /**
   * The callee's app rings, answers or declines the call this instance holds (runs in the
   * session's queue). Resolves with a wait for the ACK when it answered 200.
   */
  async answer(s: MediaSession, body: MediaSessionStatusChange): Promise<{ acked: Promise<void> } | undefined> {
    const id = s.mediaSessionId;
    const sdp = body.answer?.sdp !== undefined ? parseAppSdp(body.answer.sdp, this.config.sdp.profile, 'answer.sdp') : undefined;
    const { decision, session } = await this.transitions.handle(
      id,
      { kind: 'app-status', status: body.status, hasOffer: body.offer !== undefined, hasAnswer: sdp !== undefined, hasLocation: body.locationDetails !== undefined },
      { session: s, view: { holdsInvite: this.holds(id) }, edit: (x) => (sdp ? { ...x, answer: sdp, localSdp: sdp } : x) },
    );
    if (decision?.kind !== 'go' || !session) return undefined;
    const answering = decision.actions.some((a) => a.kind === 'answer');
    const acked = answering ? this.waitAck(session.dialog?.callId ?? '') : undefined;
    this.perform(decision.actions, session, sdp);
    return acked && { acked };
  }

  /** Actions on the pending INVITE; `sdp` is the app's answer given with this request. */
  perform(actions: readonly Action[], s: MediaSession, sdp?: string): void {
    const id = s.mediaSessionId;
    for (const a of actions) {
      const key = this.pending.get(id);
      if (!key) {
        this.logger.warn({ mediaSessionId: id, action: a.kind }, 'no pending INVITE on this instance to answer');
        return;
      }
      switch (a.kind) {
        case 'progress':
          this.sip.progress(key, { kind: a.progress, ...(sdp !== undefined && { sdp }) });
          break;
        case 'answer':
          this.pending.delete(id);
          this.sip.answer(key, sdp ?? s.answer ?? '');
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

  private waitAck(callId: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ACK_WAIT_MS);
      t.unref();
      this.ackWaiters.set(callId, () => {
        clearTimeout(t);
        this.ackWaiters.delete(callId);
        resolve();
      });
    });
  }
}

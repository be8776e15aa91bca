import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import type { Principal } from '../common/auth/principal';
import { requirePhoneNumber } from '../common/auth/scopes.decorator';
import { ApiError, badGateway, incompatibleState, invalidArgument, invalidTokenContext, notFound, permissionDenied, unavailable } from '../common/errors/api-error';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { Clock } from '../common/clock';
import { MediaSession, SessionStore } from '../store/session-store';
import { CallSignal, DialogState, IncomingCall, IncomingDialogRequest, NameAddr, OutgoingCall, SipFailure, SipGateway } from '../sip/sip-gateway';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { adaptAnswerToOffer, getDirection, holdDirection, nextVersion, parseOffer, resumeDirection, SdpError, setDirection } from '../sip/sdp';
import { EventPublisher, WebrtcEventType } from '../events/event-publisher';
import { GatewayMetrics } from '../observability/metrics/gateway-metrics';
import { RegistrationsService } from '../registrations/registrations.service';
import { ANONYMOUS_URI, camaraAddressOf, E164, phoneNumberOf, SHORT_CODE, toSipUri } from './address';
import { classifyCall, emergencyNotSupported, LocationInput, planEmergencyInvite, planLocatedInvite, planLocationUpdate, toApiError } from './emergency';
import { MediaSessionCreate, MediaSessionResponse, MediaSessionStatusChange } from './dto/media-session.dto';
import { toEventData, toMediaSessionResponse } from './media-session.mapper';
import { EARLY_STATUSES, ESTABLISHED_STATUSES, isFinal, NetworkSignal, onNetworkSignal, SessionStatus } from './session-status';

/** How long a live session record lasts without any write (a call longer than this loses its state). */
export const ACTIVE_SESSION_TTL_MS = 24 * 3600_000;

/**
 * webrtc-call-handling use cases. Outgoing calls: create → INVITE, follow the network's answers
 * through the state machine, end with CANCEL or BYE. Every transition is written to the store
 * (compare-and-set) before the session-status event is enqueued, so any instance can read the
 * session and send its BYE.
 */
@Injectable()
export class SessionsService implements OnModuleInit, OnApplicationShutdown {
  /** Per-session work queue on this instance: SIP signals and client actions apply in order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Sessions this instance drives (sent the INVITE): avoids a read before each transition. */
  private readonly cache = new Map<string, MediaSession>();
  private readonly ringTimers = new Map<string, NodeJS.Timeout>();
  /** Incoming INVITEs this instance holds, waiting for the app's answer: mediaSessionId → transaction. */
  private readonly pendingInvites = new Map<string, string>();
  /** PUT Connected waits (briefly) for the ACK of our 2xx: callId → resolve. */
  private readonly ackWaiters = new Map<string, () => void>();
  /** Call-setup timing of the INVITEs this instance sent (RFC 6076 SRD, post-dial delay). */
  private readonly setup = new Map<string, { startedAt: number; provisional: boolean; answered: boolean }>();

  constructor(
    private readonly config: AppConfig,
    private readonly store: SessionStore,
    private readonly sip: SipGateway,
    private readonly credentials: SipCredentialsProvider,
    private readonly registrations: RegistrationsService,
    private readonly events: EventPublisher,
    private readonly clock: Clock,
    private readonly metrics: GatewayMetrics,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
  ) {}

  onModuleInit(): void {
    this.sip.on('dialog.request', (req) => void this.onDialogRequest(req).catch((err: unknown) => this.warn(undefined, 'in-dialog request failed', err)));
    this.sip.on('call.incoming', (inc) => void this.onIncomingCall(inc).catch((err: unknown) => this.refuseIncoming(inc, err)));
    this.sip.on('call.cancelled', (c) => void this.onRemoteCancel(c.transactionKey).catch((err: unknown) => this.warn(undefined, 'CANCEL handling failed', err)));
    this.sip.on('call.ack', (a) => void this.onAck(a.callId, a.localTag, a.acked).catch((err: unknown) => this.warn(undefined, 'ACK handling failed', err)));
  }

  onApplicationShutdown(): void {
    for (const t of this.ringTimers.values()) clearTimeout(t);
    this.ringTimers.clear();
  }

  // ---------------------------------------------------------------------------------- create

  async create(principal: Principal, registrationId: string, body: MediaSessionCreate): Promise<MediaSessionResponse> {
    const phoneNumber = requirePhoneNumber(principal);
    const cls = classifyCall(body, this.config.emergency.numbers);
    if (cls.emergency && !this.config.emergency.enabled) throw emergencyNotSupported();
    if (body.receiverAddress === ANONYMOUS_URI) throw invalidArgument('receiverAddress must not be the anonymous URI.');
    if (!cls.emergency && SHORT_CODE.test(body.receiverAddress)) {
      throw invalidArgument('receiverAddress: a local number needs a phone-context (tel:<digits>;phone-context=…).');
    }
    const anonymous = body.originatorAddress === ANONYMOUS_URI;
    if (!anonymous && phoneNumberOf(body.originatorAddress) !== phoneNumber) throw invalidTokenContext('originatorAddress');
    if (cls.emergency && cls.serviceUrn) return this.createEmergency(principal, phoneNumber, registrationId, body, cls.serviceUrn);

    const offer = this.parseSdp(body.offer.sdp);
    const reg = await this.registrations.own(principal, registrationId);
    const credentials = this.credentials.get(phoneNumber);
    if (!credentials) throw permissionDenied(`No SIP credentials are provisioned for ${phoneNumber} on this gateway.`);

    const identity = `sip:${phoneNumber}@${this.config.sip.domain}`;
    let call: OutgoingCall = {
      contactUser: reg.registrationId,
      // RFC 3323/3325: an anonymous caller's From hides it; the network still learns who it is.
      from: anonymous ? { uri: ANONYMOUS_URI, displayName: 'Anonymous' } : { uri: identity, ...(body.originatorName !== undefined && { displayName: body.originatorName }) },
      to: { uri: toSipUri(body.receiverAddress, this.config.sip.domain), ...(body.receiverName !== undefined && { displayName: body.receiverName }) },
      requestUri: toSipUri(body.receiverAddress, this.config.sip.domain),
      body: { contentType: 'application/sdp', content: offer },
      headers: anonymous ? { 'P-Asserted-Identity': `<${identity}>`, Privacy: 'id' } : {},
      credentials,
    };
    if (body.locationDetails) {
      // A located regular call: the location travels as PIDF-LO with Geolocation-Routing: no (RFC 6442).
      const location = body.locationDetails;
      call = this.planned(() =>
        planLocatedInvite(call, location as LocationInput, { domain: this.config.sip.domain, entity: anonymous ? ANONYMOUS_URI : identity, deviceId: `urn:uuid:${reg.deviceId}`, now: () => new Date(this.clock.now()) }),
      );
    }
    return this.launch(this.newOutgoing(phoneNumber, body, offer, 'REGULAR', reg), call);
  }

  /**
   * An emergency call (3GPP TS 24.229 §5.1.6.8, RFC 6881): to the service URN, the subscriber's
   * identity asserted, the location as PIDF-LO. It goes out with or without a registration.
   */
  private async createEmergency(principal: Principal, phoneNumber: string, registrationId: string, body: MediaSessionCreate, serviceUrn: string): Promise<MediaSessionResponse> {
    const reg = await this.registrations.own(principal, registrationId).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return undefined; // unregistered emergency session
      throw err;
    });
    const credentials = reg ? this.credentials.get(phoneNumber) : undefined;
    const plan = this.planned(() =>
      planEmergencyInvite({
        serviceUrn,
        phoneNumber,
        domain: this.config.sip.domain,
        originatorAddress: body.originatorAddress,
        ...(body.originatorName !== undefined && { originatorName: body.originatorName }),
        ...(body.receiverName !== undefined && { receiverName: body.receiverName }),
        offerSdp: body.offer.sdp,
        sdpProfile: this.config.sdp.profile,
        ...(body.locationDetails && { location: body.locationDetails as LocationInput }),
        ...(reg && { deviceId: `urn:uuid:${reg.deviceId}`, contactUser: reg.registrationId }),
        identityHeader: this.config.emergency.identityHeader,
        ...(credentials && { credentials }),
        now: () => new Date(this.clock.now()),
      }),
    );
    if (plan.dropped.length > 0) this.logger.warn({ dropped: plan.dropped.length, lines: plan.dropped.map((l) => l.slice(0, 80)) }, 'emergency call: unparseable SDP lines dropped');
    return this.launch(this.newOutgoing(phoneNumber, body, plan.offer, 'EMERGENCY', reg), plan.call);
  }

  /** Runs a pure planner, turning its location/SDP errors into CAMARA 400s. */
  private planned<T>(plan: () => T): T {
    try {
      return plan();
    } catch (err) {
      throw toApiError(err) ?? err;
    }
  }

  private newOutgoing(phoneNumber: string, body: MediaSessionCreate, offer: string, callType: 'REGULAR' | 'EMERGENCY', reg: { registrationId: string; deviceId: string } | undefined): MediaSession {
    const now = this.clock.now();
    return {
      mediaSessionId: randomUUID(),
      direction: 'outgoing',
      phoneNumber,
      ...(reg && { registrationId: reg.registrationId, deviceId: reg.deviceId }),
      originatorAddress: body.originatorAddress,
      ...(body.originatorName !== undefined && { originatorName: body.originatorName }),
      receiverAddress: body.receiverAddress,
      ...(body.receiverName !== undefined && { receiverName: body.receiverName }),
      callType,
      ...(body.locationDetails && { locationDetails: body.locationDetails }),
      status: 'Initial',
      offer,
      localSdp: offer,
      sequenceNumber: 0,
      createdAt: now,
      updatedAt: now,
      version: 0,
    };
  }

  /** Stores the session, sends the INVITE (201 as soon as it is on the wire) and arms the ring timer. */
  private async launch(session: MediaSession, call: OutgoingCall): Promise<MediaSessionResponse> {
    await this.store.create(session, ACTIVE_SESSION_TTL_MS);
    const stored = { ...session, version: 1 };
    this.cache.set(session.mediaSessionId, stored);
    const log = this.logger.child({ mediaSessionId: session.mediaSessionId });

    let sent: MediaSession | undefined;
    await this.serial(session.mediaSessionId, async () => {
      try {
        const handle = await this.sip.invite(call, (signal) => this.onCallSignal(session.mediaSessionId, signal));
        this.setup.set(session.mediaSessionId, { startedAt: this.clock.now(), provisional: false, answered: false });
        this.metrics.callStarted('outgoing');
        sent = await this.mutate(session.mediaSessionId, (s) => ({ ...s, dialog: mergeDialog(s.dialog, handle.dialog) }));
        log.debug({ callId: handle.callId, to: call.requestUri, callType: session.callType }, 'INVITE sent');
      } catch (err) {
        await this.mutate(session.mediaSessionId, (s) => this.finalise(s, 'Failed', undefined, err instanceof Error ? err.message : String(err)));
        this.cache.delete(session.mediaSessionId);
        throw err;
      }
    }).catch((err: unknown) => {
      this.warn(session.mediaSessionId, 'INVITE could not be sent', err);
      throw unavailable('The call could not be sent to the IMS core.');
    });
    this.startRingTimer(session.mediaSessionId);
    return toMediaSessionResponse(sent ?? stored);
  }

  private parseSdp(sdp: string, field = 'offer.sdp'): string {
    try {
      return parseOffer(sdp, { profile: this.config.sdp.profile }).sdp;
    } catch (err) {
      if (err instanceof SdpError) throw invalidArgument(`${field}: ${err.message}`);
      throw err;
    }
  }

  // ------------------------------------------------------------------------- network → status

  /** Every response to our INVITE, in order, on the instance that sent it. */
  private onCallSignal(id: string, signal: CallSignal): void {
    this.serial(id, () => this.applySignal(id, signal)).catch((err: unknown) => this.warn(id, `could not apply ${signal.kind}`, err));
  }

  private async applySignal(id: string, signal: CallSignal): Promise<void> {
    const current = this.cache.get(id) ?? (await this.store.get(id));
    if (!current) {
      if (signal.kind === 'answered') await this.byeOrphan(signal.dialog, id);
      return;
    }
    if (signal.kind === 'answered' && isFinal(current.status)) {
      // RFC 3261 §9.1/§15: a 2xx that crossed our CANCEL (or arrived after the ring timeout) is
      // ACKed by the SIP layer and then ended with BYE.
      await this.byeOrphan(signal.dialog, id);
      return;
    }
    const net = toNetworkSignal(signal, current.cancelledBy);
    const t = onNetworkSignal(current.status, net);
    if ('ignore' in t) {
      this.logger.debug({ mediaSessionId: id, callId: current.dialog?.callId, signal: signal.kind }, `ignored: ${t.ignore}`);
      if ((signal.kind === 'provisional' || signal.kind === 'answered') && signal.dialog && !isFinal(current.status)) {
        // Keep the freshest dialog data (route set, remote target) even when the status stays.
        await this.mutate(id, (s) => ({ ...s, dialog: mergeDialog(s.dialog, signal.dialog) }), false);
      }
      return;
    }
    const code = 'code' in signal ? signal.code : undefined;
    const reason = 'reason' in signal ? signal.reason : signal.kind === 'transport' ? signal.message : 'no final answer (Timer B)';
    await this.transition(id, t.next, code, reason, (s) => ({
      ...s,
      ...(t.storeAnswer && 'sdp' in signal && signal.sdp !== undefined && { answer: signal.sdp, remoteSdp: signal.sdp }),
      ...((signal.kind === 'provisional' || signal.kind === 'answered') && signal.dialog && { dialog: mergeDialog(s.dialog, signal.dialog) }),
    }));
  }

  /** A far-end BYE (and, later, re-INVITE/UPDATE) inside one of our dialogs. */
  private async onDialogRequest(req: IncomingDialogRequest): Promise<void> {
    if (req.method === 'ACK') return;
    const session = req.localTag ? await this.store.findByDialog(req.callId, req.localTag).catch(() => undefined) : undefined;
    if (!session || !session.dialog) {
      this.sip.respond(req.transactionKey, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    const id = session.mediaSessionId;
    if (req.method === 'BYE') {
      this.sip.respond(req.transactionKey, 200, 'OK');
      await this.serial(id, async () => {
        const s = this.cache.get(id) ?? (await this.store.get(id));
        if (!s || isFinal(s.status)) return;
        await this.transition(id, 'Terminated', undefined, 'BYE from the far end', (x) => x);
      });
      return;
    }
    if (req.method === 'INVITE' || req.method === 'UPDATE') {
      await this.serial(id, () => this.onRemoteOffer(id, req));
      return;
    }
    // INFO, MESSAGE… inside a call: accepted and ignored (RFC 6086 §4.2.2 allows 200 for unused INFO).
    this.sip.respond(req.transactionKey, req.method === 'INFO' ? 200 : 405, req.method === 'INFO' ? 'OK' : 'Method Not Allowed');
  }

  /**
   * A re-INVITE or UPDATE from the network: answered with our last SDP adapted to the new offer's
   * direction (RFC 3264 §8), and reported to the app. An offer that holds us (sendonly/inactive)
   * moves the session to Hold; the next sendrecv one to Resume.
   */
  private async onRemoteOffer(id: string, req: IncomingDialogRequest): Promise<void> {
    const s = this.cache.get(id) ?? (await this.store.get(id));
    if (!s || isFinal(s.status) || !s.dialog) {
      this.sip.respond(req.transactionKey, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    const local = s.localSdp ?? (s.direction === 'outgoing' ? s.offer : s.answer);
    if (!local) {
      this.sip.respond(req.transactionKey, 491, 'Request Pending');
      return;
    }
    const dialog = { ...s.dialog, remoteSeq: req.cseq };
    if (!req.sdp) {
      // Offerless re-INVITE / UPDATE: our current SDP is the offer (its answer comes in the ACK).
      this.sip.respond(req.transactionKey, 200, 'OK', { body: { contentType: 'application/sdp', content: local }, dialog });
      await this.mutate(id, (x) => ({ ...x, dialog }), false);
      return;
    }
    let answer: string;
    try {
      answer = adaptAnswerToOffer(local, req.sdp);
    } catch (err) {
      this.sip.respond(req.transactionKey, 488, 'Not Acceptable Here');
      this.warn(id, 'could not answer the re-offer', err);
      return;
    }
    this.sip.respond(req.transactionKey, 200, 'OK', { body: { contentType: 'application/sdp', content: answer }, dialog });
    const held = isHolding(req.sdp);
    const next: SessionStatus = held ? 'Hold' : s.status === 'Hold' ? 'Resume' : s.status;
    const edit = (x: MediaSession): MediaSession => ({ ...x, dialog, offer: req.sdp ?? x.offer, answer, localSdp: answer, remoteSdp: req.sdp });
    if (next === s.status) {
      // Same status, new media: still a session-status event (the app must apply the new SDP).
      const saved = await this.mutate(id, (x) => ({ ...edit(x), sequenceNumber: x.sequenceNumber + 1 }));
      if (saved) await this.publish(saved);
      return;
    }
    await this.transition(id, next, undefined, `${req.method} from the far end`, edit);
  }

  // ------------------------------------------------------------------------- incoming calls

  /**
   * An INVITE for one of our registrations: a new session (we are the UAS) and a
   * session-invitation event. Nobody to tell (no subscription) or no registration: 480.
   */
  private async onIncomingCall(inc: IncomingCall): Promise<void> {
    const reg = await this.registrations.active(inc.contactUser);
    const log = this.logger.child({ callId: inc.dialog.callId, registrationId: inc.contactUser });
    if (!reg) {
      log.info('incoming call for an unknown or expired registration: 480');
      this.sip.respond(inc.transactionKey, 480, 'Temporarily Unavailable');
      return;
    }
    const audience = { phoneNumber: reg.phoneNumber, deviceId: reg.deviceId };
    if (!(await this.events.hasSubscribers(audience, WebrtcEventType.sessionInvitation))) {
      log.info('incoming call but the device has no session-invitation subscription: 480');
      this.sip.respond(inc.transactionKey, 480, 'Temporarily Unavailable');
      return;
    }
    if (!inc.sdp) {
      // NOTE: offerless INVITEs would need the app to make the offer; the CAMARA flow has the app answer.
      log.info('incoming INVITE without SDP offer: 488');
      this.sip.respond(inc.transactionKey, 488, 'Not Acceptable Here');
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
    await this.store.create(session, ACTIVE_SESSION_TTL_MS);
    const stored = { ...session, version: 1 };
    this.cache.set(session.mediaSessionId, stored);
    this.pendingInvites.set(session.mediaSessionId, inc.transactionKey);
    this.setup.set(session.mediaSessionId, { startedAt: now, provisional: false, answered: false });
    this.metrics.callStarted('incoming');
    await this.events.publish(audience, WebrtcEventType.sessionInvitation, toEventData(stored));
    this.startRingTimer(session.mediaSessionId);
    log.info({ mediaSessionId: session.mediaSessionId, from: session.originatorAddress }, 'incoming call offered to the app');
  }

  private refuseIncoming(inc: IncomingCall, err: unknown): void {
    this.warn(undefined, 'incoming call could not be offered', err);
    // A store or events fault must not leave the caller hanging: 500 lets the network try elsewhere.
    this.sip.respond(inc.transactionKey, 500, 'Server Internal Error');
  }

  /** The caller gave up (CANCEL): the SIP layer answered 487; the session is SessionCancelled. */
  private async onRemoteCancel(transactionKey: string): Promise<void> {
    const id = [...this.pendingInvites].find(([, key]) => key === transactionKey)?.[0];
    if (!id) return;
    const s = { mediaSessionId: id };
    this.pendingInvites.delete(id);
    await this.serial(s.mediaSessionId, async () => {
      const cur = this.cache.get(s.mediaSessionId) ?? (await this.store.get(s.mediaSessionId));
      if (!cur || !EARLY_STATUSES.has(cur.status)) return;
      await this.transition(s.mediaSessionId, 'SessionCancelled', 487, 'CANCEL from the caller', (x) => x);
    });
  }

  /** The ACK for our 2xx: the answered incoming call is Connected (or, without ACK, failed: BYE). */
  private async onAck(callId: string, localTag: string, acked: boolean): Promise<void> {
    const s = await this.store.findByDialog(callId, localTag);
    if (!s || s.direction !== 'incoming') return;
    const id = s.mediaSessionId;
    await this.serial(id, async () => {
      const cur = this.cache.get(id) ?? (await this.store.get(id));
      if (!cur || !EARLY_STATUSES.has(cur.status) || !cur.answer) return;
      if (acked) {
        await this.transition(id, 'Connected', 200, 'OK', (x) => ({ ...x, dialog: x.dialog && { ...x.dialog, state: 'confirmed' } }));
      } else {
        // RFC 3261 §13.3.1.4: no ACK within 64*T1 — the UAS ends the dialog with BYE.
        await this.transition(id, 'Failed', undefined, 'no ACK for the 2xx', (x) => x);
        if (cur.dialog) await this.sip.request({ ...cur.dialog, state: 'confirmed' }, 'BYE').catch((err: unknown) => this.warn(id, 'BYE failed', err));
      }
    });
    this.ackWaiters.get(callId)?.();
  }

  // -------------------------------------------------------------------------- get and delete

  async get(principal: Principal, id: string): Promise<MediaSessionResponse> {
    return toMediaSessionResponse(await this.own(principal, id));
  }

  /** DELETE: CANCEL before a final answer, BYE once connected; 204 either way, then 404. */
  async remove(principal: Principal, id: string): Promise<void> {
    const session = await this.own(principal, id);
    await this.serial(id, async () => {
      const s = (await this.store.get(id)) ?? session;
      if (s.deleted) throw notFound(`Session ${id} not found.`);
      if (isFinal(s.status)) {
        await this.mutate(id, (x) => ({ ...x, deleted: true }), false);
        return;
      }
      // Refresh the copy only of a session this instance drives (the cache must not grow with others').
      if (this.cache.has(id)) this.cache.set(id, s);
      if (EARLY_STATUSES.has(s.status) && s.direction === 'incoming') {
        // RFC 3261 §21.6.2: the callee does not want to take the call.
        this.answerPending(id, 603, 'Decline');
        await this.transition(id, 'Declined', 603, 'declined by the application', (x) => ({ ...x, deleted: true }));
        return;
      }
      if (EARLY_STATUSES.has(s.status)) {
        await this.transition(id, 'SessionCancelled', undefined, 'cancelled by the application', (x) => ({ ...x, cancelledBy: 'client', deleted: true }));
        if (s.dialog?.invite) {
          await this.sip.cancel(s.dialog).catch((err: unknown) => this.warn(id, 'CANCEL failed', err));
        }
        return;
      }
      await this.transition(id, 'Terminated', undefined, 'ended by the application', (x) => ({ ...x, deleted: true }));
      if (s.dialog) {
        await this.sip.request(s.dialog, 'BYE').catch((err: unknown) => this.warn(id, 'BYE failed', err));
      }
    });
  }

  /**
   * PUT /status, either party. The callee answers an incoming call (Ringing → 180, with SDP → 183,
   * Connected + answer → 200, Declined → 603); either party holds, resumes or re-offers on an
   * established call (re-INVITE; UPDATE in an early dialog). What does not fit → 409.
   */
  async updateStatus(principal: Principal, id: string, body: MediaSessionStatusChange): Promise<MediaSessionResponse> {
    await this.own(principal, id);
    let waitAck: { acked: Promise<void> } | undefined;
    await this.serial(id, async () => {
      const s = (await this.store.get(id)) ?? undefined;
      if (!s || s.deleted) throw notFound(`Session ${id} not found.`);
      // Refresh the copy only of a session this instance drives (the cache must not grow with others').
      if (this.cache.has(id)) this.cache.set(id, s);
      if (isFinal(s.status)) throw incompatibleState(`The session is ${s.status}: its status cannot change any more.`);
      if (s.direction === 'incoming' && EARLY_STATUSES.has(s.status)) {
        waitAck = await this.answerIncoming(s, body);
        return;
      }
      if (EARLY_STATUSES.has(s.status)) {
        if ((body.status === 'InProgress' || body.status === 'Connected') && body.offer && s.dialog?.remoteTag) {
          await this.reoffer(s, this.parseSdp(body.offer.sdp), s.status, 'UPDATE');
          return;
        }
        throw incompatibleState(`Status ${body.status} cannot be set on an outgoing session in status ${s.status}: the network decides.`);
      }
      // established: Connected / Hold / Resume
      const local = s.localSdp ?? (s.direction === 'outgoing' ? s.offer : s.answer);
      switch (body.status) {
        case 'Hold': {
          if (!local) throw incompatibleState('The session has no local SDP to put on hold.');
          await this.reoffer(s, nextVersion(setDirection(local, holdDirection(getDirection(local)))), 'Hold', 'INVITE');
          return;
        }
        case 'Resume': {
          if (s.status !== 'Hold' || !local) throw incompatibleState(`Only a held session can be resumed (it is ${s.status}).`);
          await this.reoffer(s, nextVersion(setDirection(local, resumeDirection(getDirection(local)))), 'Resume', 'INVITE');
          return;
        }
        case 'Connected':
        case 'InProgress': {
          if (body.offer) {
            await this.reoffer(s, this.parseSdp(body.offer.sdp), s.status, 'INVITE');
            return;
          }
          if (body.locationDetails) {
            await this.updateLocation(s, body.locationDetails as LocationInput);
            return;
          }
          throw incompatibleState(`The session is already ${s.status}; send a new offer to change its media.`);
        }
        default:
          throw incompatibleState(`Status ${body.status} cannot be set on an established session.`);
      }
    });
    if (waitAck) await waitAck.acked;
    return toMediaSessionResponse(await this.own(principal, id));
  }

  /** The callee's app answers the call this instance holds. Returns a wait for the ACK when it answered 200. */
  private async answerIncoming(s: MediaSession, body: MediaSessionStatusChange): Promise<{ acked: Promise<void> } | undefined> {
    const id = s.mediaSessionId;
    if (!this.pendingInvites.has(id)) {
      throw incompatibleState('The incoming call is not held by this gateway instance any more (answered elsewhere or gone).');
    }
    const sdp = body.answer?.sdp !== undefined ? this.parseSdp(body.answer.sdp, 'answer.sdp') : undefined;
    switch (body.status) {
      case 'Ringing':
      case 'InProgress': {
        const code = sdp ? 183 : body.status === 'Ringing' ? 180 : 183;
        this.answerPending(id, code, code === 180 ? 'Ringing' : 'Session Progress', sdp, false);
        await this.transition(id, body.status, code, undefined, (x) => ({ ...x, ...(sdp && { answer: sdp, localSdp: sdp }) }));
        return undefined;
      }
      case 'Connected': {
        if (!sdp) throw invalidArgument('answer.sdp is required to accept a call (status Connected).');
        const callId = s.dialog?.callId ?? '';
        const acked = new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2000);
          t.unref();
          this.ackWaiters.set(callId, () => {
            clearTimeout(t);
            this.ackWaiters.delete(callId);
            resolve();
          });
        });
        await this.mutate(id, (x) => ({ ...x, answer: sdp, localSdp: sdp }));
        this.answerPending(id, 200, 'OK', sdp);
        return { acked };
      }
      case 'Declined': {
        this.answerPending(id, 603, 'Decline');
        await this.transition(id, 'Declined', 603, 'declined by the application', (x) => x);
        return undefined;
      }
      default:
        throw incompatibleState(`Status ${body.status} does not answer an incoming call (use Ringing, InProgress, Connected or Declined).`);
    }
  }

  /** A new location on an established call: in-dialog UPDATE with Geolocation and the PIDF-LO (RFC 6442 §4.3). */
  private async updateLocation(s: MediaSession, location: LocationInput): Promise<void> {
    if (!s.dialog) throw incompatibleState('The session has no SIP dialog yet.');
    const update = this.planned(() =>
      planLocationUpdate(location, {
        domain: this.config.sip.domain,
        entity: `sip:${s.phoneNumber}@${this.config.sip.domain}`,
        ...(s.deviceId && { deviceId: `urn:uuid:${s.deviceId}` }),
        now: () => new Date(this.clock.now()),
        routing: s.callType === 'EMERGENCY',
      }),
    );
    const credentials = this.credentials.get(s.phoneNumber);
    const res = await this.sip
      .request(s.dialog, 'UPDATE', { headers: update.headers, body: update.body, ...(credentials && { credentials }) })
      .catch((err: unknown) => {
        throw unavailable(`The location UPDATE could not be delivered (${err instanceof Error ? err.message : String(err)}).`);
      });
    const saved = await this.mutate(s.mediaSessionId, (x) => ({
      ...x,
      dialog: res.dialog,
      ...(res.code < 300 && { locationDetails: location as unknown as Record<string, unknown>, sequenceNumber: x.sequenceNumber + 1 }),
    }));
    if (res.code >= 300) throw badGateway(`The far end refused the location UPDATE (${res.code} ${res.reason}).`);
    if (saved) await this.publish(saved);
  }

  /** Sends a response to the pending incoming INVITE (final ones release it). */
  private answerPending(id: string, code: number, reason: string, sdp?: string, final = true): void {
    const key = this.pendingInvites.get(id);
    if (!key) {
      this.logger.warn({ mediaSessionId: id, code }, 'no pending INVITE on this instance to answer');
      return;
    }
    if (final) this.pendingInvites.delete(id);
    this.sip.respond(key, code, reason, sdp ? { body: { contentType: 'application/sdp', content: sdp } } : {});
  }

  /**
   * A new offer from the app's side (hold, resume, new media): re-INVITE in a confirmed dialog,
   * UPDATE in an early one (RFC 3311). 491 glare → retried after the RFC 3261 §14.1 random delay.
   */
  private async reoffer(s: MediaSession, sdp: string, next: SessionStatus, method: 'INVITE' | 'UPDATE'): Promise<void> {
    const id = s.mediaSessionId;
    if (!s.dialog) throw incompatibleState('The session has no SIP dialog yet.');
    const credentials = this.credentials.get(s.phoneNumber);
    let dialog = s.dialog;
    for (let attempt = 0; ; attempt++) {
      const res = await this.sip
        .request(dialog, method, { body: { contentType: 'application/sdp', content: sdp }, ...(credentials && { credentials }) })
        .catch((err: unknown) => {
          throw unavailable(`The ${method} could not be delivered (${err instanceof Error ? err.message : String(err)}).`);
        });
      dialog = res.dialog;
      if (res.code === 491 && attempt < 2) {
        // RFC 3261 §14.1: the owner of the Call-ID (the dialog's UAC) waits 2.1–4 s, the other 0–2 s.
        const delay = dialog.role === 'uac' ? 2100 + Math.random() * 1900 : Math.random() * 2000;
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      await this.mutate(id, (x) => ({ ...x, dialog: res.dialog }), false);
      if (res.code >= 200 && res.code < 300) {
        const edit = (x: MediaSession): MediaSession => ({ ...x, offer: sdp, localSdp: sdp, ...(res.sdp !== undefined && { answer: res.sdp, remoteSdp: res.sdp }) });
        if (next === s.status) {
          const saved = await this.mutate(id, (x) => ({ ...edit(x), sequenceNumber: x.sequenceNumber + 1 }));
          if (saved) await this.publish(saved);
        } else {
          await this.transition(id, next, res.code, res.reason, edit);
        }
        return;
      }
      if (res.code === 481 || res.code === 408) {
        // RFC 3261 §12.2.1.2: the dialog is gone.
        await this.transition(id, 'Terminated', res.code, res.reason, (x) => x);
        throw incompatibleState(`The far end no longer knows this call (${res.code} ${res.reason}); it is Terminated.`);
      }
      throw badGateway(`The far end refused the ${method === 'INVITE' ? 're-INVITE' : 'UPDATE'} (${res.code} ${res.reason}); the session is unchanged.`);
    }
  }

  /** The caller's own, not deleted session, or 404 (never someone else's data). */
  async own(principal: Principal, id: string): Promise<MediaSession> {
    const phoneNumber = requirePhoneNumber(principal);
    const s = id.length <= 256 ? await this.store.get(id) : undefined;
    if (!s || s.deleted || s.phoneNumber !== phoneNumber) throw notFound(`Session ${id.slice(0, 64)} not found.`);
    return s;
  }

  // ------------------------------------------------------------------------------- internals

  /** Writes a status change, logs it, and enqueues the session-status event. */
  private async transition(id: string, next: SessionStatus, code: number | undefined, reason: string | undefined, edit: (s: MediaSession) => MediaSession): Promise<void> {
    let from: SessionStatus | undefined;
    const saved = await this.mutate(id, (s) => {
      from = s.status;
      const edited = edit(s);
      return isFinal(next) ? this.finalise(edited, next, code, reason) : { ...edited, status: next, sipCode: code ?? s.sipCode, sipReason: reason ?? s.sipReason, sequenceNumber: s.sequenceNumber + 1 };
    });
    if (!saved) return;
    this.measure(saved, next, code, reason);
    if (isFinal(next)) {
      this.clearRingTimer(id);
      this.cache.delete(id);
    }
    this.logger.info(
      { mediaSessionId: id, callId: saved.dialog?.callId, sipCode: code, from, to: next },
      `session ${id} ${from ?? '?'} → ${next}${code ? ` (${code})` : ''}`,
    );
    await this.publish(saved);
  }

  /** Call-setup KPIs: first 18x (post-dial delay), 2xx (setup time), final outcome (once). */
  private measure(s: MediaSession, next: SessionStatus, code: number | undefined, reason: string | undefined): void {
    const t = this.setup.get(s.mediaSessionId);
    const direction = s.direction;
    if (t) {
      const ms = this.clock.now() - t.startedAt;
      if (!t.provisional && code !== undefined && code >= 180 && code < 200) {
        t.provisional = true;
        this.metrics.callProvisional(direction, ms);
      }
      if (!t.answered && next === 'Connected') {
        t.answered = true;
        this.metrics.callAnswered(direction, ms, code ?? 200);
      }
    }
    if (isFinal(next)) {
      this.metrics.callEnded(direction, next, code ?? s.sipCode, reason, t?.answered ?? (s.answer !== undefined && next === 'Terminated'));
      this.setup.delete(s.mediaSessionId);
    }
  }

  private finalise(s: MediaSession, status: SessionStatus, code: number | undefined, reason: string | undefined): MediaSession {
    return { ...s, status, sipCode: code ?? s.sipCode, sipReason: reason ?? s.sipReason, endedAt: this.clock.now(), sequenceNumber: s.sequenceNumber + 1 };
  }

  /**
   * Compare-and-set with re-read on conflict: `edit` decides again on the fresh state.
   * Resolves with what was stored, or undefined if the session is gone.
   */
  private async mutate(id: string, edit: (s: MediaSession) => MediaSession, touch = true): Promise<MediaSession | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = (attempt === 0 ? this.cache.get(id) : undefined) ?? (await this.store.get(id));
      if (!cur) return undefined;
      const next = { ...edit(cur), ...(touch && { updatedAt: this.clock.now() }) };
      const ttl = isFinal(next.status) ? this.config.sessions.retentionS * 1000 : ACTIVE_SESSION_TTL_MS;
      const saved = await this.store.update(next, cur.version, Math.max(1000, ttl));
      if (saved) {
        if (this.cache.has(id)) this.cache.set(id, saved);
        return saved;
      }
      this.cache.delete(id);
    }
    throw new Error(`session ${id}: too many concurrent updates`);
  }

  private async publish(s: MediaSession): Promise<void> {
    if (!s.deviceId) return;
    await this.events
      .publish({ phoneNumber: s.phoneNumber, deviceId: s.deviceId }, WebrtcEventType.sessionStatus, toEventData(s))
      .catch((err: unknown) => this.logger.error({ mediaSessionId: s.mediaSessionId, err }, 'could not enqueue session-status event'));
  }

  /**
   * No final answer within the ring timeout: the call is NoAnswer from now on (the app learns it
   * at once) and the INVITE is CANCELled; its 487 then changes nothing.
   */
  private startRingTimer(id: string): void {
    const timer = setTimeout(() => {
      this.ringTimers.delete(id);
      this.serial(id, async () => {
        const s = this.cache.get(id) ?? (await this.store.get(id));
        if (s && s.direction === 'incoming' && EARLY_STATUSES.has(s.status)) {
          this.answerPending(id, 480, 'Temporarily Unavailable');
          await this.transition(id, 'NoAnswer', 480, 'the app did not answer within the ring timeout', (x) => x);
          return;
        }
        if (!s || !EARLY_STATUSES.has(s.status) || s.cancelledBy || !s.dialog?.invite) return;
        this.logger.info({ mediaSessionId: id, callId: s.dialog.callId }, 'ring timeout: sending CANCEL');
        await this.transition(id, 'NoAnswer', undefined, 'no answer within the ring timeout', (x) => ({ ...x, cancelledBy: 'ring-timeout' }));
        await this.sip.cancel(s.dialog);
      }).catch((err: unknown) => this.warn(id, 'ring timeout handling failed', err));
    }, this.config.sip.ringTimeoutMs);
    timer.unref();
    this.ringTimers.set(id, timer);
  }

  private clearRingTimer(id: string): void {
    const t = this.ringTimers.get(id);
    if (t) clearTimeout(t);
    this.ringTimers.delete(id);
  }

  private async byeOrphan(dialog: DialogState, id: string): Promise<void> {
    this.logger.info({ mediaSessionId: id, callId: dialog.callId }, '2xx for an ended session: sending BYE');
    await this.sip.request(dialog, 'BYE').catch((err: unknown) => this.warn(id, 'BYE of an orphan dialog failed', err));
  }

  /** Runs `fn` after everything queued before it for the same session (on this instance). */
  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return run;
  }

  private warn(id: string | undefined, what: string, err: unknown): void {
    const detail = err instanceof SipFailure ? `${err.kind} ${err.status ?? ''} ${err.message}` : err instanceof Error ? err.message : String(err);
    this.logger.warn({ mediaSessionId: id, err: detail }, what);
  }
}

/** Whether an offer puts us on hold: every active stream sendonly or inactive from the offerer (RFC 3264 §8.4). */
function isHolding(offer: string): boolean {
  try {
    const dir = getDirection(offer);
    return dir === 'sendonly' || dir === 'inactive';
  } catch {
    return false;
  }
}

/** Port signal → state-machine signal. */
function toNetworkSignal(signal: CallSignal, cancelledBy: MediaSession['cancelledBy']): NetworkSignal {
  switch (signal.kind) {
    case 'provisional':
      return { kind: 'provisional', code: signal.code, hasSdp: signal.sdp !== undefined && signal.sdp !== '' };
    case 'answered':
      return { kind: 'answered', code: signal.code };
    case 'rejected':
      return { kind: 'rejected', code: signal.code, ...(cancelledBy && { cancelledBy }) };
    case 'timeout':
      return { kind: 'timeout' };
    case 'transport':
      return { kind: 'transport' };
  }
}

/** Newer dialog data wins, but CANCEL data of the pending INVITE is kept until the dialog is confirmed. */
function mergeDialog(prev: DialogState | undefined, next: DialogState | undefined): DialogState | undefined {
  if (!next) return prev;
  if (!prev) return next;
  const invite = next.invite ?? prev.invite;
  return { ...prev, ...next, localSeq: Math.max(prev.localSeq, next.localSeq), ...(invite && next.state !== 'confirmed' && { invite }) };
}

export { E164 };

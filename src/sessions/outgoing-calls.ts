import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import type { Principal } from '../common/auth/principal';
import { requirePhoneNumber } from '../common/auth/scopes.decorator';
import { ApiError, invalidArgument, invalidTokenContext, permissionDenied, unavailable } from '../common/errors/api-error';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { RegistrationsService } from '../registrations/registrations.service';
import { mergeDialog } from '../sip/dialog';
import { withImsOrigination } from '../sip/ims-registration';
import { CallSignal, DialogState, OutgoingCall, SipGateway } from '../sip/sip-gateway';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { MediaSession } from '../store/session-store';
import { isQuotaExceeded } from '../store/quota';
import { ANONYMOUS_URI, phoneNumberOf, SHORT_CODE, toSipUri } from './address';
import { parseAppSdp } from './app-sdp';
import { MediaSessionCreate, MediaSessionResponse } from './dto/media-session.dto';
import { classifyCall, emergencyNotSupported, LocationInput, planEmergencyInvite, planLocatedInvite, toApiError } from './emergency';
import { toMediaSessionResponse } from './media-session.mapper';
import { Action, isFinal, SessionEvent } from './session-status';
import { SessionTransitions } from './session-transitions';
import { SessionQuota } from './session-quota';

/**
 * Calls the app makes (we are the UAC): POST /sessions plans the INVITE (regular, located or
 * emergency), sends it, and follows every response through the state machine. The ring timeout
 * ends the call as NoAnswer.
 */
@Injectable()
export class OutgoingCalls {
  constructor(
    private readonly config: AppConfig,
    private readonly transitions: SessionTransitions,
    private readonly sip: SipGateway,
    private readonly credentials: SipCredentialsProvider,
    private readonly registrations: RegistrationsService,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
    private readonly quota: SessionQuota,
  ) {}

  async create(principal: Principal, registrationId: string, body: MediaSessionCreate, log: RootLogger = this.logger): Promise<MediaSessionResponse> {
    const phoneNumber = requirePhoneNumber(principal);
    const cls = classifyCall(body, this.config.emergency.numbers);
    if (cls.emergency && !this.config.emergency.enabled) throw emergencyNotSupported();
    if (body.receiverAddress === ANONYMOUS_URI) throw invalidArgument('receiverAddress must not be the anonymous URI.');
    if (!cls.emergency && SHORT_CODE.test(body.receiverAddress)) {
      throw invalidArgument('receiverAddress: a local number needs a phone-context (tel:<digits>;phone-context=…).');
    }
    const anonymous = body.originatorAddress === ANONYMOUS_URI;
    if (!anonymous && phoneNumberOf(body.originatorAddress) !== phoneNumber) throw invalidTokenContext('originatorAddress');
    if (cls.emergency && cls.serviceUrn) return this.createEmergency(principal, phoneNumber, registrationId, body, cls.serviceUrn, log);

    const offer = parseAppSdp(body.offer.sdp, this.config.sdp.profile, 'offer.sdp');
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
      const location = body.locationDetails as LocationInput;
      const base = call;
      call = planned(() =>
        planLocatedInvite(base, location, {
          domain: this.config.sip.domain,
          entity: anonymous ? ANONYMOUS_URI : identity,
          deviceId: `urn:uuid:${reg.deviceId}`,
          now: () => new Date(this.clock.now()),
        }),
      );
    }
    // TS 24.229 §5.1.2A.1: an IMS registration's calls follow its Service-Route and name MMTel
    if (this.config.sip.imsProfile === 'ims' && reg.binding.ims) call = withImsOrigination(call, reg.binding.ims, phoneNumber, anonymous);
    return this.launch(this.newSession(phoneNumber, body, offer, 'REGULAR', reg), call, log);
  }

  /**
   * An emergency call (3GPP TS 24.229 §5.1.6.8, RFC 6881): to the service URN, the subscriber's
   * identity asserted, the location as PIDF-LO. It goes out with or without a registration.
   */
  private async createEmergency(principal: Principal, phoneNumber: string, registrationId: string, body: MediaSessionCreate, serviceUrn: string, log: RootLogger): Promise<MediaSessionResponse> {
    const reg = await this.registrations.own(principal, registrationId).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return undefined; // unregistered emergency session
      throw err;
    });
    const credentials = reg ? this.credentials.get(phoneNumber) : undefined;
    const plan = planned(() =>
      planEmergencyInvite({
        serviceUrn,
        phoneNumber,
        domain: this.config.sip.domain,
        originatorAddress: body.originatorAddress,
        ...(body.originatorName !== undefined && { originatorName: body.originatorName }),
        ...(body.receiverName !== undefined && { receiverName: body.receiverName }),
        offerSdp: body.offer.sdp,
        sdpProfile: this.config.sdp.profile,
        ...(body.locationDetails && { location: body.locationDetails }),
        ...(reg && { deviceId: `urn:uuid:${reg.deviceId}`, contactUser: reg.registrationId }),
        identityHeader: this.config.emergency.identityHeader,
        ...(credentials && { credentials }),
        now: () => new Date(this.clock.now()),
      }),
    );
    if (plan.dropped.length > 0) log.warn({ dropped: plan.dropped.length, lines: plan.dropped.map((l) => l.slice(0, 80)) }, 'emergency call: unparseable SDP lines dropped');
    return this.launch(this.newSession(phoneNumber, body, plan.offer, 'EMERGENCY', reg), plan.call, log);
  }

  private newSession(phoneNumber: string, body: MediaSessionCreate, offer: string, callType: 'REGULAR' | 'EMERGENCY', reg: { registrationId: string; deviceId: string } | undefined): MediaSession {
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
  private async launch(session: MediaSession, call: OutgoingCall, log: RootLogger): Promise<MediaSessionResponse> {
    const id = session.mediaSessionId;
    // QUOTA_SESSIONS_PER_NUMBER, checked by the store with the insert: before anything reaches SIP
    const stored = await this.transitions.create(session, this.quota.capFor(session.callType));
    if (isQuotaExceeded(stored)) throw this.quota.tooManyRequests(session.phoneNumber, stored);
    const sent = await this.transitions
      .serial(id, async () => {
        this.transitions.kpis.started(id, 'outgoing');
        try {
          const handle = await this.sip.invite(call, (signal) => this.onSignal(id, signal));
          log.debug({ mediaSessionId: id, callId: handle.callId, to: call.requestUri, callType: session.callType }, 'INVITE sent');
          return await this.transitions.patch(id, (s) => ({ ...s, dialog: mergeDialog(s.dialog, handle.dialog) }));
        } catch (err) {
          await this.transitions.handle(id, { kind: 'transport-failure', message: err instanceof Error ? err.message : String(err) }, { log });
          throw err;
        }
      })
      .catch((err: unknown) => {
        this.transitions.warn(id, 'INVITE could not be sent', err, log);
        throw unavailable('The call could not be sent to the IMS core.');
      });
    this.transitions.armRingTimer(id, () => this.onRingTimeout(id));
    return toMediaSessionResponse(sent ?? stored);
  }

  /** Every response to our INVITE, in order, on the instance that sent it. */
  private onSignal(id: string, signal: CallSignal): void {
    this.transitions.serial(id, () => this.applySignal(id, signal)).catch((err: unknown) => this.transitions.warn(id, `could not apply ${signal.kind}`, err));
  }

  private async applySignal(id: string, signal: CallSignal): Promise<void> {
    const dialog = signal.kind === 'provisional' || signal.kind === 'answered' ? signal.dialog : undefined;
    const sdp = signal.kind === 'provisional' || signal.kind === 'answered' ? signal.sdp : undefined;
    const { decision, session } = await this.transitions.handle(id, toEvent(signal), {
      edit: (s, d) => ({ ...s, ...(d.storeAnswer && sdp !== undefined && { answer: sdp, remoteSdp: sdp }), ...(dialog && { dialog: mergeDialog(s.dialog, dialog) }) }),
    });
    if (!session) {
      // The record is gone: a dialog the network still thinks is up must be ended.
      if (signal.kind === 'answered') await this.hangUp(signal.dialog, undefined, id);
      return;
    }
    if (decision?.kind === 'ignore' && dialog && !isFinal(session.status)) {
      // Keep the freshest dialog data (route set, remote target) even when the status stays.
      await this.transitions.patch(id, (s) => ({ ...s, dialog: mergeDialog(s.dialog, dialog) }), false);
    }
    if (decision?.kind === 'go') await this.perform(decision.actions, session, dialog);
  }

  private async onRingTimeout(id: string): Promise<void> {
    const { decision, session } = await this.transitions.handle(id, { kind: 'ring-timeout' });
    if (decision?.kind === 'go' && session) {
      this.logger.info({ mediaSessionId: id, callId: session.dialog?.callId }, 'ring timeout: sending CANCEL');
      await this.perform(decision.actions, session);
    }
  }

  private async perform(actions: readonly Action[], s: MediaSession, answered?: DialogState): Promise<void> {
    for (const a of actions) {
      if (a.kind !== 'hang-up') throw new Error(`outgoing call: unexpected action ${a.kind}`);
      const dialog = answered ?? s.dialog;
      if (dialog) await this.hangUp(dialog, s.phoneNumber, s.mediaSessionId);
    }
  }

  private async hangUp(dialog: DialogState, phoneNumber: string | undefined, id: string): Promise<void> {
    const credentials = phoneNumber ? this.credentials.get(phoneNumber) : undefined;
    await this.sip.hangUp(dialog, credentials).catch((err: unknown) => this.transitions.warn(id, 'hang-up failed', err));
  }
}

/** Port signal → state-machine event. */
function toEvent(signal: CallSignal): SessionEvent {
  switch (signal.kind) {
    case 'provisional':
      return { kind: 'provisional', code: signal.code, reason: signal.reason, hasSdp: signal.sdp !== undefined && signal.sdp !== '' };
    case 'answered':
      return { kind: 'answered', code: signal.code, reason: signal.reason };
    case 'rejected':
      return { kind: 'rejected', code: signal.code, reason: signal.reason };
    case 'timeout':
      return { kind: 'no-final-answer' };
    case 'transport':
      return { kind: 'transport-failure', message: signal.message };
  }
}

/** Runs a pure planner, turning its location/SDP errors into CAMARA 400s. */
function planned<T>(plan: () => T): T {
  try {
    return plan();
  } catch (err) {
    throw toApiError(err) ?? err;
  }
}

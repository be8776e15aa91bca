import { EventEmitter } from 'node:events';
import { Secret } from '../config/secret';
import type { DialogState } from '../domain/dialog-state';
import type { RegistrationBinding } from '../domain/registration-binding';
import type { RegInfo, SubscriptionState } from './reginfo';
import type { OutboundTargetStatus } from './routing/outbound-targets';

export type { OutboundTargetStatus } from './routing/outbound-targets';

export type { DialogState, RegistrationBinding };
export type { RegInfo, RegInfoContact, RegInfoRegistration, SubscriptionState } from './reginfo';

/**
 * The SIP port: what features may ask of the SIP side. Nothing here mentions transactions or
 * wire syntax beyond URIs; everything a dialog needs is plain JSON (`DialogState`) so that it can
 * live in the store and be used by any gateway instance.
 *
 * One shared SIP stack per gateway instance (not one user agent per subscriber). Each
 * registration's Contact user is its registrationId, so requests from the network are
 * demultiplexed by Request-URI user (To as fallback).
 */

/** Digest credentials of one subscriber (RFC 3261 §22, RFC 2617). */
export interface SipCredentials {
  username: string;
  password: Secret;
}

export interface RegistrationTarget {
  /** Contact user: `sip:<registrationId>@<advertised host:port>`. */
  registrationId: string;
  /** E.164 with `+`; the AoR is `sip:<phoneNumber>@<SIP_DOMAIN>`. */
  phoneNumber: string;
  /** Goes in Contact as `+sip.instance="<urn:uuid:deviceId>"` (RFC 5626 §4.1). */
  deviceId: string;
  /** Expires asked for (seconds). */
  expiresS: number;
  credentials: SipCredentials;
  /** Present when refreshing or removing an existing binding. */
  binding?: RegistrationBinding;
}

export interface RegistrationGrant {
  binding: RegistrationBinding;
  /** Expires the registrar granted for our contact (may be shorter than asked). */
  grantedExpiresS: number;
}

/** Why a SIP operation failed. `rejected` carries the final response. */
export type SipFailureKind = 'rejected' | 'timeout' | 'transport';

export class SipFailure extends Error {
  constructor(
    readonly kind: SipFailureKind,
    message: string,
    readonly status?: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'SipFailure';
  }
}

/** A URI with an optional display name. `uri` is a validated SIP/SIPS/TEL/URN URI without CR/LF. */
export interface NameAddr {
  uri: string;
  displayName?: string;
}

/** A message body. `content` is a JS string (UTF-8 is encoded by the SIP layer). */
export interface SipBody {
  contentType: string;
  content: string;
}

/** What the network says about an outgoing INVITE. Every dialog carried is complete (merge with `mergeDialog`). */
export type CallSignal =
  | { kind: 'provisional'; code: number; reason: string; sdp?: string; dialog?: DialogState }
  | { kind: 'answered'; code: number; reason: string; sdp?: string; dialog: DialogState }
  | { kind: 'rejected'; code: number; reason: string }
  | { kind: 'timeout' }
  | { kind: 'transport'; message: string };

export interface OutgoingCall {
  /** Contact user of the registration the call belongs to (registrationId), or a per-call one. */
  contactUser: string;
  from: NameAddr;
  to: NameAddr;
  requestUri: string;
  body: SipBody;
  /** Extra headers, already validated (no CR/LF): P-Asserted-Identity, Privacy, Geolocation… */
  headers?: Record<string, string>;
  /** Answer 401/407 challenges with these. */
  credentials?: SipCredentials;
  /** Preloaded Route (RFC 3261 §8.1.2), e.g. the registration's Service-Route (RFC 3608 §6), in order. */
  route?: readonly string[];
}

export interface CallHandle {
  callId: string;
  /** Dialog data known once the INVITE is sent (tags, Call-ID, CANCEL data); no remote tag yet. */
  dialog: DialogState;
}

/** A request from the network that opens a call towards one of our registrations. */
export interface IncomingCall {
  /**
   * Names the pending INVITE for `progress`, `answer` and `reject`; valid on the instance that
   * received it while the INVITE transaction lives.
   */
  key: string;
  /** Request-URI user (our registrationId), or To user as fallback. */
  contactUser: string;
  requestUri: string;
  from: NameAddr;
  to: NameAddr;
  /** P-Asserted-Identity when present. */
  assertedIdentity?: NameAddr;
  sdp?: string;
  /** Early dialog as the UAS: localTag chosen, remoteTag = From tag, route set = Record-Route. */
  dialog: DialogState;
}

/** Why we refuse an incoming call; the port picks the SIP response (RFC 3261 §21). */
export type RejectCause =
  /** The app declined it: 603 Decline. */
  | 'declined'
  /** Nobody can take it now (no registration, no subscriber, ring timeout): 480 Temporarily Unavailable. */
  | 'unavailable'
  /** Its offer (or the lack of one) cannot be answered: 488 Not Acceptable Here. */
  | 'not-acceptable'
  /** A fault on our side: 500 Server Internal Error. */
  | 'error'
  /** The callee takes no more calls now (its sessions quota is full): 486 Busy Here (RFC 3261 §21.4.24). */
  | 'busy';

/** An early response to an incoming INVITE: 180 Ringing, or 183 Session Progress (with early media when `sdp`). */
export interface Progress {
  kind: 'ringing' | 'session-progress';
  sdp?: string;
}

/** A change of media the app asks for on a dialog (RFC 3264 §8). */
export type MediaChange =
  /** A new offer as given. */
  | { kind: 'offer'; sdp: string }
  /** Put the far end on hold: `localSdp` (our current SDP) with sendonly/inactive and a new o= version. */
  | { kind: 'hold'; localSdp: string }
  /** Take it off hold: `localSdp` back to sendrecv/recvonly with a new o= version. */
  | { kind: 'resume'; localSdp: string };

/** The outcome of `modify`. `dialog` is the dialog after the exchange (CSeq advanced): persist it. */
export type ModifyResult =
  | { outcome: 'accepted'; code: number; reason: string; offer: string; answer?: string; dialog: DialogState }
  /** The far end refused the offer; the session is unchanged (RFC 3261 §14.1). */
  | { outcome: 'refused'; code: number; reason: string; dialog: DialogState }
  /** 481/408: the dialog no longer exists on the far end (RFC 3261 §12.2.1.2). */
  | { outcome: 'gone'; code: number; reason: string; dialog: DialogState };

/** A location update carried in an UPDATE (RFC 6442 §4.3): Geolocation headers and the multipart body. */
export interface LocationUpdate {
  headers: Record<string, string>;
  body: SipBody;
}

export interface LocationResult {
  delivered: boolean;
  code: number;
  reason: string;
  dialog: DialogState;
}

interface DialogRequestBase {
  callId: string;
  /** Our tag (the request's To tag). */
  localTag: string;
  /** Their tag (From tag). */
  remoteTag?: string;
  cseq: number;
}

/** A request from the network inside one of our dialogs (RFC 3261 §12.2.2). */
export type RemoteDialogRequest =
  | (DialogRequestBase & { kind: 'bye' })
  /** re-INVITE or UPDATE; without `sdp` it asks us for an offer (RFC 3261 §14.2). */
  | (DialogRequestBase & { kind: 'offer'; method: 'INVITE' | 'UPDATE'; sdp?: string })
  | (DialogRequestBase & { kind: 'info'; body?: SipBody })
  | (DialogRequestBase & { kind: 'other'; method: string });

/** How a feature answers a `RemoteDialogRequest`; the port picks the response. Call exactly one. */
export interface DialogReply {
  /**
   * 200 OK. For an offer: `sdp` is our answer, or our offer when the request had none; `dialog`
   * is the session's dialog (its Contact goes in the 2xx).
   */
  accept(media?: { sdp: string; dialog: DialogState }): void;
  /** 481: no session knows this dialog. */
  unknownDialog(): void;
  /** 488: the offer cannot be answered (RFC 3264 §6). */
  notAcceptable(): void;
  /** 491: an offer/answer exchange of ours is pending (RFC 3261 §14.2). */
  pending(): void;
  /** 405 with Allow. */
  notAllowed(): void;
  /**
   * 500 with Retry-After (RFC 3261 §21.5.1): we cannot tell now whether the dialog exists (e.g.
   * the session store is unreachable). Never answer "481" for a fault of ours.
   */
  unavailable(retryAfterS: number): void;
}

/** A SUBSCRIBE to the registration state of a public user identity (RFC 3680, TS 24.229 §5.1.1.3). */
export interface RegEventTarget {
  /** The registration it watches: recoverable from the subscription's Call-ID. */
  registrationId: string;
  /** E.164 with `+`; Request-URI, To and From are `sip:<phoneNumber>@<SIP_DOMAIN>`. */
  phoneNumber: string;
  /** Expires asked for (TS 24.229 §5.1.1.3: 600000). */
  expiresS: number;
  credentials: SipCredentials;
  /** The registration's Service-Route, preloaded on the initial SUBSCRIBE (RFC 3608 §6). */
  route?: readonly string[];
  /** P-Preferred-Identity (RFC 3325 §9.2), a checked URI. */
  preferredIdentity?: string;
  /** The subscription dialog to refresh (RFC 6665 §4.1.2.1); absent: a new subscription. */
  dialog?: DialogState;
}

/** A subscription the notifier accepted: its dialog (persist it) and the expiry it granted. */
export interface RegEventGrant {
  dialog: DialogState;
  expiresS: number;
}

/** A NOTIFY of the `reg` event package in one of our subscriptions (RFC 3680 §5.2), parsed. */
export interface RegEventNotification {
  /** From the Call-ID (our SUBSCRIBE chose it). */
  registrationId: string;
  callId: string;
  /** Our tag (the NOTIFY's To tag). */
  localTag: string;
  /** The notifier's tag (From tag). */
  remoteTag?: string;
  subscriptionState: SubscriptionState;
  /** Absent when the NOTIFY had no body. */
  reginfo?: RegInfo;
}

/** How the feature answers a `RegEventNotification`. Call exactly one. */
export interface RegEventReply {
  /** 200 OK. */
  accept(): void;
  /** 481: no such subscription (RFC 6665 §4.1.3); the notifier ends it. */
  unknownSubscription(): void;
  /** 500 with Retry-After: we cannot tell now (store unreachable). */
  unavailable(retryAfterS: number): void;
}

export interface SipEventMap {
  /** A well-formed `reg` NOTIFY (RFC 3680); the listener must call exactly one method of the reply. */
  'reg.notify': [RegEventNotification, RegEventReply];
  'call.incoming': [IncomingCall];
  /** The caller CANCELled a pending incoming INVITE: the port already answered 200 (CANCEL) and 487 (INVITE). */
  'call.cancelled': [{ callId: string; key: string }];
  /**
   * The ACK for our 2xx to an incoming INVITE arrived: the dialog is confirmed. `sdp` is its body:
   * the answer when the INVITE had no offer and our 2xx made one (RFC 3261 §13.2.1).
   */
  'call.confirmed': [{ callId: string; localTag: string; sdp?: string }];
  /**
   * Our 2xx was never ACKed (64·T1): the port already ended the dialog with BYE
   * (RFC 3261 §13.3.1.4).
   */
  'call.unconfirmed': [{ callId: string; localTag: string }];
  /** The ACK of our 2xx to an offerless re-INVITE, with the answer to the offer that 2xx carried (RFC 3261 §14.2). */
  'dialog.answer': [{ callId: string; localTag: string; sdp: string }];
  /** In-dialog request from the network; the listener must call exactly one method of the reply. */
  'dialog.request': [RemoteDialogRequest, DialogReply];
  /**
   * RFC 4028 §10: we are the refresher of this dialog's session timer and half the interval has
   * passed: the listener calls `refreshSession` with the stored dialog and our current SDP.
   */
  'dialog.refresh-due': [{ callId: string; localTag: string }];
  /**
   * RFC 4028 §10: no refresh arrived or succeeded before the session expiry (less the smaller of
   * 32 s and a third of the interval): the session must end with BYE (`hangUp`).
   */
  'dialog.expired': [{ callId: string; localTag: string }];
}

/**
 * The SIP port speaks call verbs. Response codes, CANCEL-versus-BYE, ACKs, glare back-off and
 * the BYE after a missing ACK are decided behind it, in `sip/`.
 */
export abstract class SipGateway extends EventEmitter<SipEventMap> {
  /** REGISTER (or refresh when `target.binding` is set), answering one digest challenge. */
  abstract register(target: RegistrationTarget): Promise<RegistrationGrant>;
  /** REGISTER with Expires: 0 for the binding. Resolves on any final answer. */
  abstract unregister(target: RegistrationTarget & { binding: RegistrationBinding }): Promise<void>;

  /**
   * SUBSCRIBE to the `reg` event package (RFC 3680 §3, RFC 6665 §4.1.2), or a refresh of the
   * subscription in `target.dialog`, answering one digest challenge. Throws SipFailure; status
   * 481 on a refresh means the subscription is gone (RFC 6665 §4.1.2.2).
   */
  abstract subscribeRegEvent(target: RegEventTarget): Promise<RegEventGrant>;

  /** Sends an INVITE; resolves once it is on the wire. `onSignal` receives every response (after auth). */
  abstract invite(call: OutgoingCall, onSignal: (signal: CallSignal) => void): Promise<CallHandle>;

  /** 180 or 183 to an incoming INVITE. */
  abstract progress(key: string, progress: Progress): void;
  /**
   * 200 OK with our SDP to an incoming INVITE, retransmitted until the ACK (RFC 3261 §13.3.1.4);
   * then `call.confirmed`, or `call.unconfirmed` after the port's BYE.
   */
  abstract answer(key: string, sdp: string): void;
  /** A final refusal of an incoming INVITE. */
  abstract reject(key: string, cause: RejectCause): void;

  /**
   * A final refusal of an incoming INVITE whose transaction was on a lost instance, built from the
   * stored `dialog.inviteServer` (RFC 3261 §8.2.6.2) and sent to its top Via (§18.2.2). False when
   * the dialog has no stored INVITE or it cannot be used; nothing is thrown.
   */
  abstract rejectStored(dialog: DialogState, cause: RejectCause): boolean;

  /**
   * This instance now holds a confirmed dialog another instance set up (that one was lost): the
   * returned dialog names our Contact (persist it, then send a target refresh with
   * `refreshSession`, RFC 3261 §12.2.1.2), and its stored RFC 4028 timer runs here.
   */
  abstract takeOver(dialog: DialogState): DialogState;

  /**
   * Ends our side of a dialog: CANCEL while our INVITE is pending (RFC 3261 §9.1, from any
   * instance with the stored `dialog.invite`), BYE once it is confirmed (§15). Best effort:
   * failures are logged, never thrown.
   */
  abstract hangUp(dialog: DialogState, credentials?: SipCredentials): Promise<void>;
  /**
   * New media on a dialog: re-INVITE when confirmed, UPDATE when early (RFC 3311). A 491 glare is
   * retried after the RFC 3261 §14.1 back-off. Throws SipFailure on timeout or transport error.
   */
  abstract modify(dialog: DialogState, change: MediaChange, credentials?: SipCredentials): Promise<ModifyResult>;
  /**
   * A session refresh (RFC 4028 §7.4, §10): UPDATE without a body when the far end allows UPDATE,
   * else a re-INVITE with `localSdp` unchanged; the 2xx restarts the timer. Session timers run on
   * the instance that holds the call (`takeOver` moves them). Throws SipFailure on timeout or transport error.
   */
  abstract refreshSession(dialog: DialogState, localSdp: string | undefined, credentials?: SipCredentials): Promise<ModifyResult>;
  /** A new location in an UPDATE (RFC 6442 §4.3). Throws SipFailure on timeout or transport error. */
  abstract sendLocation(dialog: DialogState, update: LocationUpdate, credentials?: SipCredentials): Promise<LocationResult>;

  /** SIP OPTIONS to the outbound proxy; resolves with the status code or throws SipFailure. */
  abstract ping(): Promise<number>;
  /** True once the socket is bound. */
  abstract isListening(): boolean;
  /** The outbound proxy's RFC 3263 targets and their state (health, metrics); empty when not known. */
  outboundTargets(): OutboundTargetStatus[] {
    return [];
  }
}

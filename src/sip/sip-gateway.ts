import { EventEmitter } from 'node:events';
import { Secret } from '../config/secret';
import type { DialogState } from '../domain/dialog-state';
import type { RegistrationBinding } from '../domain/registration-binding';

export type { DialogState, RegistrationBinding };

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


/** What the network says about an outgoing INVITE (or a re-INVITE / UPDATE we sent). */
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
}

export interface CallHandle {
  callId: string;
  /** Dialog data known once the INVITE is sent (tags, Call-ID, CANCEL data); no remote tag yet. */
  dialog: DialogState;
}

/** A request from the network that opens a call towards one of our registrations. */
export interface IncomingCall {
  /** Opaque key for `respond()`; valid on the instance that received the INVITE while the transaction lives. */
  transactionKey: string;
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

/** An in-dialog request from the network (BYE, re-INVITE, UPDATE, INFO...) or a CANCEL / ACK. */
export interface IncomingDialogRequest {
  transactionKey: string;
  method: string;
  callId: string;
  /** Our tag (the request's To tag), their tag (From tag). */
  localTag?: string;
  remoteTag?: string;
  cseq: number;
  sdp?: string;
  body?: SipBody;
  headers: Record<string, string>;
}

export interface SipEventMap {
  'call.incoming': [IncomingCall];
  /** In-dialog request; the listener must call `respond(req.transactionKey, …)` except for ACK. */
  'dialog.request': [IncomingDialogRequest];
  /** A CANCEL matched one of our pending incoming INVITEs: the layer already answered 200 to the CANCEL. */
  'call.cancelled': [{ callId: string; transactionKey: string }];
  /** The ACK for a 2xx we sent arrived (or the 2xx retransmissions gave up: `acked: false`). */
  'call.ack': [{ callId: string; localTag: string; acked: boolean }];
}

export interface InDialogResult {
  code: number;
  reason: string;
  sdp?: string;
  /** The dialog after the request: `localSeq` advanced. Persist it. */
  dialog: DialogState;
}

export abstract class SipGateway extends EventEmitter<SipEventMap> {
  /** REGISTER (or refresh when `target.binding` is set), answering one digest challenge. */
  abstract register(target: RegistrationTarget): Promise<RegistrationGrant>;
  /** REGISTER with Expires: 0 for the binding. Resolves on any final answer. */
  abstract unregister(target: RegistrationTarget & { binding: RegistrationBinding }): Promise<void>;

  /** Sends an INVITE; resolves once it is on the wire. `onSignal` receives every response (after auth). */
  abstract invite(call: OutgoingCall, onSignal: (signal: CallSignal) => void): Promise<CallHandle>;
  /**
   * CANCEL a pending INVITE (works from any instance with the stored `dialog.invite`).
   * The INVITE's 487 arrives through `onSignal` on the instance that sent it.
   */
  abstract cancel(dialog: DialogState): Promise<void>;
  /** BYE / re-INVITE / UPDATE / INFO in a dialog. A 2xx to a re-INVITE is ACKed by the layer. */
  abstract request(dialog: DialogState, method: string, opts?: { body?: SipBody; headers?: Record<string, string>; credentials?: SipCredentials }): Promise<InDialogResult>;

  /**
   * Answer a request received from the network (incoming INVITE or in-dialog request).
   * For a 2xx to an INVITE the layer retransmits it until the ACK (RFC 3261 §13.3.1.4) and emits `call.ack`.
   */
  abstract respond(transactionKey: string, code: number, reason: string, opts?: { body?: SipBody; headers?: Record<string, string>; dialog?: DialogState }): void;

  /** SIP OPTIONS to the outbound proxy; resolves with the status code or throws SipFailure. */
  abstract ping(): Promise<number>;
  /** True once the socket is bound. */
  abstract isListening(): boolean;
}

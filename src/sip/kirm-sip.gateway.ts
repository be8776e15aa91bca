import { SIP_TELEMETRY, SipTelemetry } from './sip-telemetry';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import * as sip from 'sip';
import type { SipMessage } from 'sip';
import { AppConfig } from '../config/app-config';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import {
  CallHandle,
  CallSignal,
  DialogState,
  InDialogResult,
  IncomingCall,
  IncomingDialogRequest,
  OutgoingCall,
  RegistrationBinding,
  RegistrationGrant,
  RegistrationTarget,
  SipBody,
  SipCredentials,
  SipFailure,
  SipEventMap,
  SipGateway,
} from './sip-gateway';
import { buildAuthenticatedRequest, isChallenge } from './digest-auth';
import { ackFor2xx, inDialogRequest, uacDialogFromResponse, uasDialogFromInvite } from './dialog';
import { buildRegister, grantedExpires, minExpires } from './registration';
import { ClientHandlers, SentRequest, ServerTransaction, SipStack, SipTimers } from './sip-stack';
import {
  assertHeaderValue,
  assertUri,
  extraHeaders,
  fromAor,
  generateCallId,
  generateTag,
  headerString,
  SipSyntaxError,
  sdpOf,
  toAor,
  uriUser,
} from './sip-syntax';

/** Optional injection token: overrides of the SIP timers (tests use short Timer B/F). */
export const SIP_TIMERS = Symbol('SIP_TIMERS');

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO';
const USER_PART = /^[A-Za-z0-9\-_.!~*'()+%&=$,;?/]+$/;

/** An outgoing INVITE while it is pending (and shortly after, for ACKing 2xx retransmissions). */
interface UacCall {
  base: DialogState;
  onSignal: (signal: CallSignal) => void;
  credentials?: SipCredentials;
  authed: boolean;
  request: SipMessage;
  sent: SentRequest;
  provisionalSeen: boolean;
  cancelRequested: boolean;
  final: boolean;
  /** Remote tag of the dialog the first 2xx confirmed. */
  confirmedTag?: string;
  /** ACK bytes per remote tag, re-sent for each retransmitted 2xx (RFC 3261 §13.2.2.4). */
  acks: Map<string, { wire: Buffer; msg: SipMessage }>;
}

/** Per received request: what respond() needs beyond the server transaction. */
interface UasEntry {
  tx: ServerTransaction;
  /** For an initial INVITE: the early dialog (our To tag, Contact). */
  dialog?: DialogState;
}

function parseProxy(uri: string): { host: string; port: number } {
  const u = sip.parseUri(uri);
  if (!u) throw new SipSyntaxError(`SIP outbound proxy ${uri} is not a SIP URI`);
  return { host: u.host, port: u.port && Number.isFinite(u.port) ? u.port : 5060 };
}

/** First name-addr of a P-Asserted-Identity value (RFC 3325 §9.1), display name unquoted. */
export function parseAssertedIdentity(value: string | undefined): { uri: string; displayName?: string } | undefined {
  if (!value) return undefined;
  const m = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<",]*?))\s*<([^>]+)>/.exec(value);
  if (m?.[3]) {
    const name = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]?.trim();
    return name ? { uri: m[3], displayName: name } : { uri: m[3] };
  }
  const bare = /^\s*([^\s,;<>]+)/.exec(value);
  return bare?.[1] ? { uri: bare[1] } : undefined;
}

/**
 * The gateway's SIP side on kirm's `sip` package: one stack per instance, every request sent to
 * the outbound proxy (the P-CSCF), dialogs as plain JSON so any instance can continue them.
 */
@Injectable()
export class KirmSipGateway extends SipGateway implements OnModuleInit, OnApplicationShutdown {
  private readonly stack: SipStack;
  private readonly proxy: { host: string; port: number };
  private readonly cfg: AppConfig['sip'];
  private readonly hostPort: string;
  private readonly uacCalls = new Map<string, UacCall>();
  private readonly uas = new Map<string, UasEntry>();
  private started?: Promise<void>;
  private closed = false;

  constructor(
    config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
    @Optional() @Inject(SIP_TIMERS) timers?: Partial<SipTimers>,
    @Optional() @Inject(SIP_TELEMETRY) telemetry?: SipTelemetry,
  ) {
    super();
    this.cfg = config.sip;
    this.proxy = parseProxy(this.cfg.outboundProxy);
    this.hostPort = `${this.cfg.advertisedAddress}:${this.cfg.listenPort}`;
    this.stack = new SipStack(
      {
        protocol: this.cfg.transport === 'tcp' ? 'TCP' : 'UDP',
        listenAddress: this.cfg.listenAddress,
        listenPort: this.cfg.listenPort,
        advertisedHost: this.cfg.advertisedAddress,
        // resolved in start() when the proxy is given by name (no SRV: RFC 3263 is not implemented)
        outboundProxy: { address: this.proxy.host, port: this.proxy.port },
        timers: { uasInviteGuardMs: this.cfg.ringTimeoutMs + 5_000, transactionTimeoutMs: this.cfg.transactionTimeoutMs, ...timers },
        ...(telemetry && { telemetry }),
      },
      logger.child({ component: 'sip' }),
    );
  }

  async onModuleInit(): Promise<void> {
    await this.start();
  }

  /** Last of the shutdown hooks, so that features can still un-REGISTER and hang up before it (beforeApplicationShutdown). */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Binds the socket (idempotent). */
  start(): Promise<void> {
    this.started ??= (async () => {
      if (!isIP(this.proxy.host)) {
        const { address } = await lookup(this.proxy.host, { family: 4 });
        this.stack.options.outboundProxy.address = address;
      }
      await this.stack.start({
        onRequest: (rq, tx) => this.onRequest(rq, tx),
        onAck: (rq, matched) => this.onAck(rq, matched),
        on2xxTimeout: (callId, localTag) => this.emitSafe('call.ack', { callId, localTag, acked: false }),
      });
      this.logger.info({ listen: `${this.cfg.listenAddress}:${this.cfg.listenPort}`, transport: this.cfg.transport, proxy: this.cfg.outboundProxy }, 'SIP stack listening');
    })();
    return this.started;
  }

  /** Idempotent: stops every SIP timer and closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.uacCalls.clear();
    this.uas.clear();
    await this.started?.catch(() => undefined);
    await this.stack.close();
  }

  isListening(): boolean {
    return this.stack.listening;
  }

  /** Our Contact for a user part (RFC 3261 §8.1.1.8). */
  contactFor(user: string): string {
    if (!USER_PART.test(user)) throw new SipSyntaxError('contact user contains characters not allowed in a SIP URI user part');
    return `sip:${user}@${this.hostPort}${this.cfg.transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  // ------------------------------------------------------------------ REGISTER

  async register(target: RegistrationTarget): Promise<RegistrationGrant> {
    const contact = this.contactFor(target.registrationId);
    const callId = target.binding?.callId ?? generateCallId();
    // §10.2.4: a refresh keeps the Call-ID and increments the CSeq
    let cseq = (target.binding?.cseq ?? 0) + 1;
    let expiresS = target.expiresS;
    let retried423 = false;
    for (;;) {
      const rq = buildRegister({
        domain: this.cfg.domain,
        phoneNumber: target.phoneNumber,
        contact,
        deviceId: target.deviceId,
        expiresS,
        callId,
        cseq,
        // another instance's binding (restart / failover): drop it in the same REGISTER
        staleContact: target.binding?.contact,
      });
      const { response, lastSeq } = await this.transact(rq, target.credentials);
      cseq = lastSeq;
      const status = response.status ?? 0;
      if (status === 423 && !retried423) {
        const min = minExpires(response);
        if (min !== undefined && min > expiresS) {
          retried423 = true;
          expiresS = min;
          cseq += 1;
          continue;
        }
      }
      if (status >= 300) throw new SipFailure('rejected', `REGISTER rejected: ${status} ${response.reason ?? ''}`.trim(), status, response.reason);
      const binding: RegistrationBinding = { callId, cseq, contact };
      return { binding, grantedExpiresS: grantedExpires(response, contact, expiresS) };
    }
  }

  async unregister(target: RegistrationTarget & { binding: RegistrationBinding }): Promise<void> {
    const rq = buildRegister({
      domain: this.cfg.domain,
      phoneNumber: target.phoneNumber,
      // remove the binding as registered (it may carry another instance's host:port)
      contact: target.binding.contact,
      expiresS: 0,
      callId: target.binding.callId,
      cseq: target.binding.cseq + 1,
    });
    const { response } = await this.transact(rq, target.credentials);
    if ((response.status ?? 0) >= 300) {
      this.logger.warn({ callId: target.binding.callId, status: response.status }, 'un-REGISTER rejected');
    }
  }

  /**
   * One non-INVITE request to the proxy, answering at most one digest challenge. Resolves with the
   * final response; rejects with SipFailure('timeout' | 'transport').
   */
  private transact(first: SipMessage, credentials: SipCredentials | undefined): Promise<{ response: SipMessage; lastSeq: number }> {
    return new Promise((resolve, reject) => {
      let authed = false;
      const send = (rq: SipMessage): void => {
        this.stack.sendRequest(rq, {
          onResponse: (rs) => {
            const status = rs.status ?? 0;
            if (status < 200) return;
            if (isChallenge(rs) && credentials && !authed) {
              authed = true;
              let retry: SipMessage;
              try {
                retry = buildAuthenticatedRequest(rq, rs, credentials);
              } catch (err) {
                this.logger.warn({ err, callId: rq.headers['call-id'] }, 'unusable digest challenge');
                resolve({ response: rs, lastSeq: rq.headers.cseq?.seq ?? 0 });
                return;
              }
              send(retry);
              return;
            }
            resolve({ response: rs, lastSeq: rq.headers.cseq?.seq ?? 0 });
          },
          onTimeout: () => reject(new SipFailure('timeout', `${rq.method ?? ''} timed out (no final response from ${this.cfg.outboundProxy})`)),
          onTransportError: (err) => reject(new SipFailure('transport', `${rq.method ?? ''} could not be sent: ${err.message}`)),
        });
      };
      if (this.closed) {
        reject(new SipFailure('transport', 'SIP gateway closed'));
        return;
      }
      send(first);
    });
  }

  // ------------------------------------------------------------------ outgoing calls

  async invite(call: OutgoingCall, onSignal: (signal: CallSignal) => void): Promise<CallHandle> {
    if (this.closed) throw new SipFailure('transport', 'SIP gateway closed');
    const requestUri = assertUri(call.requestUri, 'Request-URI');
    const localContact = this.contactFor(call.contactUser);
    const callId = generateCallId();
    const localTag = generateTag();
    const rq: SipMessage = {
      method: 'INVITE',
      uri: requestUri,
      headers: {
        to: toAor(call.to),
        from: toAor(call.from, { tag: localTag }),
        'call-id': callId,
        cseq: { seq: 1, method: 'INVITE' },
        contact: [{ uri: localContact, params: {} }],
        'max-forwards': 70,
        allow: ALLOW,
        ...extraHeaders(call.headers),
        'content-type': assertHeaderValue(call.body.contentType, 'Content-Type'),
      },
      content: call.body.content,
    };
    const base: DialogState = {
      callId,
      role: 'uac',
      localTag,
      localUri: call.from.uri,
      remoteUri: call.to.uri,
      localSeq: 1,
      remoteTarget: requestUri,
      routeSet: [],
      localContact,
      state: 'early',
    };
    if (call.from.displayName) base.localDisplayName = call.from.displayName;
    if (call.to.displayName) base.remoteDisplayName = call.to.displayName;
    const state: UacCall = {
      base,
      onSignal,
      credentials: call.credentials,
      authed: false,
      request: rq,
      sent: { branch: '', via: '' },
      provisionalSeen: false,
      cancelRequested: false,
      final: false,
      acks: new Map(),
    };
    this.uacCalls.set(callId, state);
    this.sendInvite(state, rq);
    return { callId, dialog: { ...state.base } };
  }

  private sendInvite(call: UacCall, rq: SipMessage): void {
    call.request = rq;
    call.provisionalSeen = false;
    const handlers: ClientHandlers = {
      onResponse: (rs) => this.onInviteResponse(call, rq, rs),
      onTimeout: () => this.finishUac(call, { kind: 'timeout' }),
      onTransportError: (err) => this.finishUac(call, { kind: 'transport', message: err.message }),
    };
    call.sent = this.stack.sendRequest(rq, handlers);
    const seq = rq.headers.cseq?.seq ?? 1;
    // CANCEL data always follows the INVITE actually pending (after an auth retry: new branch, CSeq)
    call.base = { ...call.base, localSeq: seq, invite: { requestUri: String(rq.uri), branch: call.sent.branch, cseq: seq, via: call.sent.via } };
  }

  private finishUac(call: UacCall, signal: CallSignal): void {
    if (call.final) return;
    call.final = true;
    if (this.uacCalls.get(call.base.callId) === call) this.uacCalls.delete(call.base.callId);
    this.signal(call, signal);
  }

  private signal(call: UacCall, signal: CallSignal): void {
    try {
      call.onSignal(signal);
    } catch (err) {
      this.logger.warn({ err, callId: call.base.callId }, 'onSignal listener threw');
    }
  }

  private onInviteResponse(call: UacCall, rq: SipMessage, rs: SipMessage): void {
    if (rq !== call.request) return; // a response to a superseded (challenged) INVITE
    const status = rs.status ?? 0;
    const reason = rs.reason ?? '';
    const sdp = sdpOf(headerString(rs.headers['content-type']), rs.content);
    const toTag = typeof rs.headers.to?.params.tag === 'string' ? rs.headers.to.params.tag : undefined;
    if (status < 200) {
      call.provisionalSeen = true;
      if (call.cancelRequested) {
        call.cancelRequested = false;
        this.sendCancel(call.base);
      }
      // a late 1xx (Kamailio may relay a 180 after the 200): passed on, but never (re)creates a dialog
      let dialog: DialogState | undefined;
      if (call.confirmedTag === undefined && !call.final) {
        dialog = toTag !== undefined && status > 100 ? this.tryDialog(call.base, rs) : { ...call.base };
      }
      this.signal(call, { kind: 'provisional', code: status, reason, ...(sdp !== undefined ? { sdp } : {}), ...(dialog ? { dialog } : {}) });
      return;
    }
    if (status < 300) {
      const tag = toTag ?? '';
      const known = call.acks.get(tag);
      if (known) {
        this.stack.resend(known.wire, known.msg); // retransmitted 2xx: same ACK again
        return;
      }
      const dialog = this.tryDialog(call.base, rs);
      if (!dialog) return;
      const ack = ackFor2xx(dialog, rq.headers.cseq?.seq ?? 1);
      call.acks.set(tag, { wire: this.stack.sendStateless(ack), msg: ack });
      if (call.confirmedTag === undefined) {
        call.confirmedTag = tag;
        this.finishUac(call, { kind: 'answered', code: status, reason, ...(sdp !== undefined ? { sdp } : {}), dialog });
      } else {
        // RFC 3261 §13.2.2.4: a 2xx from another fork is ACKed, then that dialog is ended with a BYE
        this.logger.info({ callId: call.base.callId }, 'second 2xx from another fork: ACK + BYE');
        void this.request(dialog, 'BYE').catch((err: unknown) => this.logger.warn({ err, callId: call.base.callId }, 'BYE to extra fork failed'));
      }
      return;
    }
    if (isChallenge(rs) && call.credentials && !call.authed && !call.final) {
      call.authed = true;
      try {
        // the 401/407 itself was ACKed by the transaction layer (§17.1.1.3)
        this.sendInvite(call, buildAuthenticatedRequest(rq, rs, call.credentials));
        return;
      } catch (err) {
        this.logger.warn({ err, callId: call.base.callId }, 'unusable digest challenge on INVITE');
      }
    }
    this.finishUac(call, { kind: 'rejected', code: status, reason });
  }

  private tryDialog(base: DialogState, rs: SipMessage): DialogState | undefined {
    try {
      return uacDialogFromResponse(base, rs);
    } catch (err) {
      this.logger.warn({ err, callId: base.callId }, 'cannot build a dialog from the response');
      return undefined;
    }
  }

  async cancel(dialog: DialogState): Promise<void> {
    const local = this.uacCalls.get(dialog.callId);
    if (local) {
      if (local.final) return;
      // §9.1: no CANCEL before a provisional response; it is sent when one arrives
      if (!local.provisionalSeen) {
        local.cancelRequested = true;
        return;
      }
      this.sendCancel(local.base);
      return;
    }
    this.sendCancel(dialog);
  }

  /** CANCEL (RFC 3261 §9.1): same R-URI, Call-ID, From, To (no tag), CSeq number and top Via as the INVITE. */
  private sendCancel(d: DialogState): void {
    const inv = d.invite;
    if (!inv) throw new SipFailure('rejected', 'dialog has no pending INVITE to cancel');
    const remote = { uri: d.remoteUri, ...(d.remoteDisplayName ? { displayName: d.remoteDisplayName } : {}) };
    const local = { uri: d.localUri, ...(d.localDisplayName ? { displayName: d.localDisplayName } : {}) };
    const rq: SipMessage = {
      method: 'CANCEL',
      uri: inv.requestUri,
      headers: {
        to: toAor(remote),
        from: toAor(local, { tag: d.localTag }),
        'call-id': d.callId,
        cseq: { seq: inv.cseq, method: 'CANCEL' },
        'max-forwards': 70,
      },
    };
    // when another instance sent the INVITE, the proxy answers the CANCEL to that instance's Via:
    // our transaction then just times out quietly
    this.stack.sendRequest(
      rq,
      {
        onResponse: (rs) => this.logger.debug({ callId: d.callId, status: rs.status }, 'CANCEL answered'),
        onTimeout: () => this.logger.debug({ callId: d.callId }, 'CANCEL not answered here'),
        onTransportError: (err) => this.logger.warn({ err, callId: d.callId }, 'CANCEL could not be sent'),
      },
      { via: inv.via },
    );
  }

  // ------------------------------------------------------------------ in-dialog requests

  async request(
    dialog: DialogState,
    method: string,
    opts: { body?: SipBody; headers?: Record<string, string>; credentials?: SipCredentials } = {},
  ): Promise<InDialogResult> {
    const m = method.toUpperCase();
    if (m === 'ACK' || m === 'CANCEL' || !/^[A-Z]+$/.test(m)) throw new SipSyntaxError(`${method} cannot be sent with request()`);
    if (this.closed) throw new SipFailure('transport', 'SIP gateway closed');
    const extra = extraHeaders(opts.headers);
    const build = (seq: number): SipMessage => {
      const rq = inDialogRequest(dialog, m, seq);
      Object.assign(rq.headers, extra);
      if (m === 'INVITE' || m === 'UPDATE') rq.headers.allow = ALLOW;
      if (opts.body) {
        rq.headers['content-type'] = assertHeaderValue(opts.body.contentType, 'Content-Type');
        rq.content = opts.body.content;
      }
      return rq;
    };
    const first = build(dialog.localSeq + 1);
    return new Promise<InDialogResult>((resolve, reject) => {
      let authed = false;
      let settled = false;
      let ack: { wire: Buffer; msg: SipMessage } | undefined;
      const send = (rq: SipMessage): void => {
        const seq = rq.headers.cseq?.seq ?? dialog.localSeq + 1;
        this.stack.sendRequest(rq, {
          onResponse: (rs) => {
            const status = rs.status ?? 0;
            if (status < 200) return;
            if (m === 'INVITE' && status < 300) {
              // §13.2.2.4: the 2xx to a re-INVITE is ACKed, also each retransmission
              if (ack) return this.stack.resend(ack.wire, ack.msg);
              const d = { ...dialog, localSeq: seq, remoteTarget: this.refreshTarget(dialog, rs) };
              const msg = ackFor2xx(d, seq);
              ack = { wire: this.stack.sendStateless(msg), msg };
            }
            if (settled) return;
            if (isChallenge(rs) && opts.credentials && !authed) {
              authed = true;
              try {
                return send(buildAuthenticatedRequest(rq, rs, opts.credentials));
              } catch (err) {
                this.logger.warn({ err, callId: dialog.callId }, 'unusable digest challenge in dialog');
              }
            }
            settled = true;
            const sdp = sdpOf(headerString(rs.headers['content-type']), rs.content);
            // §12.2.1.2: a 2xx to a target refresh request updates the remote target
            const remoteTarget = status < 300 ? this.refreshTarget(dialog, rs) : dialog.remoteTarget;
            resolve({ code: status, reason: rs.reason ?? '', ...(sdp !== undefined ? { sdp } : {}), dialog: { ...dialog, localSeq: seq, remoteTarget } });
          },
          onTimeout: () => {
            if (!settled) reject(new SipFailure('timeout', `${m} timed out`));
            settled = true;
          },
          onTransportError: (err) => {
            if (!settled) reject(new SipFailure('transport', `${m} could not be sent: ${err.message}`));
            settled = true;
          },
        });
      };
      send(first);
    });
  }

  private refreshTarget(dialog: DialogState, rs: SipMessage): string {
    const method = rs.headers.cseq?.method;
    if (method !== 'INVITE' && method !== 'UPDATE') return dialog.remoteTarget;
    const c = rs.headers.contact;
    const uri = Array.isArray(c) ? c[0]?.uri : undefined;
    return typeof uri === 'string' && uri !== '' ? uri : dialog.remoteTarget;
  }

  // ------------------------------------------------------------------ incoming requests

  private onRequest(rq: SipMessage, tx: ServerTransaction): void {
    const method = rq.method ?? '';
    const callId = rq.headers['call-id'] ?? '';
    const toTag = typeof rq.headers.to?.params.tag === 'string' && rq.headers.to.params.tag !== '' ? rq.headers.to.params.tag : undefined;
    const fromTag = typeof rq.headers.from?.params.tag === 'string' ? rq.headers.from.params.tag : undefined;

    if (method === 'CANCEL') return this.onCancel(rq, tx);
    if (method === 'OPTIONS') {
      this.reply(tx, rq, 200, 'OK', { allow: ALLOW, accept: 'application/sdp' });
      return;
    }
    if (toTag !== undefined) {
      // in-dialog (§12.2.2): the feature finds the dialog by Call-ID + tags and answers
      if (this.listenerCount('dialog.request') === 0) return this.reply(tx, rq, 481, 'Call/Transaction Does Not Exist');
      this.uas.set(tx.id, { tx });
      const ct = headerString(rq.headers['content-type']);
      const body = ct !== undefined && rq.content ? { contentType: ct, content: rq.content } : undefined;
      const sdp = sdpOf(ct, rq.content);
      const ev: IncomingDialogRequest = {
        transactionKey: tx.id,
        method,
        callId,
        localTag: toTag,
        remoteTag: fromTag,
        cseq: rq.headers.cseq?.seq ?? 0,
        ...(sdp !== undefined ? { sdp } : {}),
        ...(body ? { body } : {}),
        headers: stringHeaders(rq),
      };
      this.emit('dialog.request', ev);
      return;
    }
    if (method !== 'INVITE') {
      if (method === 'BYE' || method === 'UPDATE' || method === 'INFO' || method === 'PRACK') return this.reply(tx, rq, 481, 'Call/Transaction Does Not Exist');
      return this.reply(tx, rq, 405, 'Method Not Allowed', { allow: ALLOW });
    }
    // initial INVITE: demultiplex on the Request-URI user (our Contact user = registrationId), To as fallback
    const requestUri = String(rq.uri);
    const to = fromAor(rq.headers.to);
    const from = fromAor(rq.headers.from);
    const contactUser = uriUser(requestUri) ?? uriUser(to?.uri);
    if (!to || !from || !contactUser || !USER_PART.test(contactUser)) return this.reply(tx, rq, 404, 'Not Found');
    if (this.listenerCount('call.incoming') === 0) return this.reply(tx, rq, 480, 'Temporarily Unavailable');
    const dialog = uasDialogFromInvite(rq, this.contactFor(contactUser));
    this.uas.set(tx.id, { tx, dialog });
    const ct = headerString(rq.headers['content-type']);
    const sdp = sdpOf(ct, rq.content);
    const pai = parseAssertedIdentity(headerString(rq.headers['p-asserted-identity']));
    const incoming: IncomingCall = {
      transactionKey: tx.id,
      contactUser,
      requestUri,
      from,
      to,
      ...(pai ? { assertedIdentity: pai } : {}),
      ...(sdp !== undefined ? { sdp } : {}),
      dialog,
    };
    this.emit('call.incoming', incoming);
  }

  private onCancel(rq: SipMessage, tx: ServerTransaction): void {
    const invite = this.stack.findInvite(rq);
    if (!invite) return this.reply(tx, rq, 481, 'Call/Transaction Does Not Exist');
    // §9.2: 200 to the CANCEL; if the INVITE has no final response yet, 487 to it
    this.reply(tx, rq, 200, 'OK');
    if (invite.state !== 'proceeding') return;
    this.respond(invite.id, 487, 'Request Terminated');
    this.emitSafe('call.cancelled', { callId: rq.headers['call-id'] ?? '', transactionKey: invite.id });
  }

  private onAck(rq: SipMessage, matched: boolean): void {
    const callId = rq.headers['call-id'] ?? '';
    const localTag = typeof rq.headers.to?.params.tag === 'string' ? rq.headers.to.params.tag : '';
    if (!matched) {
      this.logger.debug({ callId }, 'ACK without a pending 2xx (retransmission or not ours); ignored');
      return;
    }
    this.emitSafe('call.ack', { callId, localTag, acked: true });
  }

  respond(transactionKey: string, code: number, reason: string, opts: { body?: SipBody; headers?: Record<string, string>; dialog?: DialogState } = {}): void {
    const entry = this.uas.get(transactionKey);
    const tx = entry?.tx ?? this.stack.findServer(transactionKey);
    if (!tx || tx.state !== 'proceeding') {
      this.logger.debug({ transactionKey, code }, 'respond(): transaction gone or already answered');
      if (entry && tx?.state !== 'proceeding') this.uas.delete(transactionKey);
      return;
    }
    if (!Number.isInteger(code) || code < 100 || code > 699) throw new SipSyntaxError(`invalid status code ${code}`);
    assertHeaderValue(reason, 'reason phrase');
    const rq = tx.request;
    const rs = sip.makeResponse(rq, code, reason);
    const method = rq.method ?? '';
    const early = entry?.dialog;
    if (early && code > 100) {
      // §8.2.6.2 / §12.1.1: our To tag on every response but 100; Contact and Record-Route on the dialog-forming ones
      const to = rq.headers.to;
      if (to) rs.headers.to = { ...to, params: { ...to.params, tag: early.localTag } };
      if (code < 300) {
        rs.headers.contact = [{ uri: opts.dialog?.localContact ?? early.localContact, params: {} }];
        if (rq.headers['record-route']?.length) rs.headers['record-route'] = rq.headers['record-route'];
      }
    } else if (code >= 200 && code < 300 && (method === 'INVITE' || method === 'UPDATE')) {
      // §12.2.2: 2xx to a target refresh carries our Contact; the R-URI of the request is our Contact
      rs.headers.contact = [{ uri: opts.dialog?.localContact ?? String(rq.uri), params: {} }];
    }
    if (code >= 200 && code < 300 && method === 'INVITE') rs.headers.allow = ALLOW;
    Object.assign(rs.headers, extraHeaders(opts.headers));
    if (opts.body) {
      rs.headers['content-type'] = assertHeaderValue(opts.body.contentType, 'Content-Type');
      rs.content = opts.body.content;
    }
    this.stack.respond(tx, rs);
    if (code >= 200) this.uas.delete(transactionKey);
  }

  private reply(tx: ServerTransaction, rq: SipMessage, code: number, reason: string, headers: Record<string, string> = {}): void {
    const rs = sip.makeResponse(rq, code, reason);
    if (code > 100 && rq.headers.to && !rq.headers.to.params.tag) rs.headers.to = { ...rq.headers.to, params: { ...rq.headers.to.params, tag: generateTag() } };
    Object.assign(rs.headers, headers);
    this.stack.respond(tx, rs);
  }

  // ------------------------------------------------------------------ keepalive

  async ping(): Promise<number> {
    const rq: SipMessage = {
      method: 'OPTIONS',
      uri: `sip:${this.proxy.host}:${this.proxy.port}`,
      headers: {
        to: { uri: `sip:${this.proxy.host}:${this.proxy.port}`, params: {} },
        from: { uri: `sip:gateway@${this.cfg.domain}`, params: { tag: generateTag() } },
        'call-id': generateCallId(),
        cseq: { seq: 1, method: 'OPTIONS' },
        'max-forwards': 70,
        accept: 'application/sdp',
      },
    };
    const { response } = await this.transact(rq, undefined);
    return response.status ?? 0;
  }

  private emitSafe<K extends keyof SipEventMap>(event: K, ...args: SipEventMap[K]): void {
    try {
      (this.emit as (e: K, ...a: SipEventMap[K]) => boolean)(event, ...args);
    } catch (err) {
      this.logger.warn({ err, event }, 'SIP event listener threw');
    }
  }
}

/** The request's headers that are plain strings (those the package does not parse), lower-case names. */
function stringHeaders(rq: SipMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rq.headers)) {
    const s = headerString(v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

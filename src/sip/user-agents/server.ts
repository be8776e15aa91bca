import type { EventEmitter } from 'node:events';
import * as sip from 'sip';
import type { SipMessage } from 'sip';
import { uasDialogFromInvite } from '../dialog';
import type { ServerTransaction } from '../sip-stack';
import { DialogReply, DialogState, IncomingCall, Progress, RejectCause, RemoteDialogRequest, SipEventMap } from '../sip-gateway';
import { assertHeaderValue, fromAor, generateTag, headerString, parseAssertedIdentity, sdpOf, uriUser } from '../sip-syntax';
import type { InDialogClient } from './in-dialog-client';
import { onNotify } from './reg-event-notify';
import { hasOptionTag, Rel100Mode } from './reliable-provisional';
import { ReliableProvisionals } from './reliable-provisionals';
import { inviteServerOf } from './stored-invite';
import { allowsUpdate, formatSessionExpires, SessionTimerConfig, timerForRefreshRequest, uasTimerFor, UasTimerDecision } from './session-timer';
import type { SessionTimers } from './session-timers';
import { ALLOW, UserAgentCore } from './user-agent-core';

/** The final response for each way of refusing a call (RFC 3261 §21). */
export const REJECT_RESPONSES = {
  declined: { code: 603, reason: 'Decline' },
  unavailable: { code: 480, reason: 'Temporarily Unavailable' },
  'not-acceptable': { code: 488, reason: 'Not Acceptable Here' },
  error: { code: 500, reason: 'Server Internal Error' },
  busy: { code: 486, reason: 'Busy Here' },
} as const satisfies Record<RejectCause, { code: number; reason: string }>;

/** The responses a `DialogReply` sends, by method. */
const DIALOG_REPLIES = {
  unknownDialog: { code: 481, reason: 'Call/Transaction Does Not Exist' },
  notAcceptable: { code: 488, reason: 'Not Acceptable Here' },
  pending: { code: 491, reason: 'Request Pending' },
  notAllowed: { code: 405, reason: 'Method Not Allowed' },
  unavailable: { code: 500, reason: 'Server Internal Error' },
} as const satisfies Record<Exclude<keyof DialogReply, 'accept'>, { code: number; reason: string }>;

/** Where the server's events go: the gateway itself (listener throws reach the stack, which answers 500). */
export type ServerEvents = Pick<EventEmitter<SipEventMap>, 'emit' | 'listenerCount'>;

interface ResponseOptions {
  /** The early dialog of an initial INVITE: our To tag, and Contact + Record-Route on a 2xx (§12.1.1). */
  early?: DialogState;
  /** Contact of a 2xx to an in-dialog target refresh (§12.2.2). */
  contact?: string;
  sdp?: string;
  headers?: Record<string, string>;
}

/**
 * Requests from the network (the UAS core, RFC 3261 §8.2): OPTIONS, CANCEL, initial INVITEs and
 * requests inside our dialogs. Also owns what follows our 2xx to an INVITE: the ACK, or the BYE
 * when none comes (§13.3.1.4).
 */
export class UserAgentServer {
  /** Initial INVITEs waiting for the feature's answer, by IncomingCall.key; `reliable`: 18x go with 100rel (RFC 3262). */
  private readonly pending = new Map<string, { tx: ServerTransaction; dialog: DialogState; reliable: boolean; timer: UasTimerDecision }>();
  /** Our reliable 18x until PRACKed (RFC 3262 §3). */
  private readonly reliable: ReliableProvisionals;
  /** Dialogs of answered INVITEs until their ACK (or 64·T1), by `${callId}|${localTag}`. */
  private readonly answered = new Map<string, DialogState>();

  constructor(
    private readonly core: UserAgentCore,
    private readonly events: ServerEvents,
    private readonly inDialog: InDialogClient,
    /** Our Contact for a user part; throws when the user part is not one we could have registered. */
    private readonly contactFor: (user: string) => string,
    private readonly rel100: Rel100Mode = 'supported',
    t1Ms = 500,
    /** RFC 4028 as UAS: our interval and Min-SE (expiresS 0: only the caller's timer), and the running timers. */
    private readonly sessionTimer: SessionTimerConfig = { expiresS: 0, minSeS: 90 },
    private readonly timers?: SessionTimers,
  ) {
    this.reliable = new ReliableProvisionals(core, t1Ms, (key) => this.onPrackTimeout(key));
  }

  /** Forgets pending INVITEs and answered dialogs (gateway closing). */
  clear(): void {
    this.pending.clear();
    this.answered.clear();
    this.reliable.clear();
  }

  onRequest(rq: SipMessage, tx: ServerTransaction): void {
    const method = rq.method ?? '';
    if (method === 'CANCEL') return this.onCancel(rq, tx);
    if (method === 'OPTIONS') return this.reply(tx, 200, 'OK', { allow: ALLOW, accept: 'application/sdp' });
    if (method === 'PRACK') return this.onPrack(rq, tx);
    // RFC 6665 §4.1.3: NOTIFYs of our `reg` subscriptions (RFC 3680), with or without To tag
    if (method === 'NOTIFY') return onNotify(this.core, this.events, rq, tx);
    const toTag = rq.headers.to?.params.tag;
    if (typeof toTag === 'string' && toTag !== '') return this.onDialogRequest(rq, tx, toTag);
    if (method !== 'INVITE') {
      // §12.2.2: a mid-dialog method without To tag matches no dialog
      if (method === 'BYE' || method === 'UPDATE' || method === 'INFO' || method === 'PRACK') return this.reply(tx, 481, 'Call/Transaction Does Not Exist');
      return this.reply(tx, 405, 'Method Not Allowed', { allow: ALLOW });
    }
    this.onInvite(rq, tx);
  }

  /** 180 Ringing or 183 Session Progress (with early media when `sdp`); reliable when the INVITE asked for it (RFC 3262 §3). */
  progress(key: string, progress: Progress): void {
    const ringing = progress.kind === 'ringing';
    const code = ringing ? 180 : 183;
    const reason = ringing ? 'Ringing' : 'Session Progress';
    const entry = this.pending.get(key);
    if (!entry?.reliable || entry.tx.state !== 'proceeding') {
      this.respondPending(key, code, reason, progress.sdp);
      return;
    }
    const rs = this.build(entry.tx, code, reason, { early: entry.dialog, ...(progress.sdp !== undefined && { sdp: progress.sdp }) });
    this.reliable.send(key, entry.tx, `${entry.dialog.callId}|${entry.dialog.localTag}`, rs);
  }

  /** 200 OK with our SDP; its dialog is kept until the ACK arrives or the 2xx times out. */
  answer(key: string, sdp: string): void {
    const entry = this.pending.get(key);
    // RFC 4028 §9: the 2xx states the interval and refresher; Require: timer when the caller refreshes
    const st = entry?.timer.kind === 'timer' ? entry.timer : undefined;
    const headers = st && { 'session-expires': formatSessionExpires(st.sessionExpires), ...(st.requireTimer && { require: 'timer' }) };
    if (!this.respondPending(key, 200, 'OK', sdp, headers) || !entry) return;
    this.answered.set(`${entry.dialog.callId}|${entry.dialog.localTag}`, { ...entry.dialog, state: 'confirmed' });
    if (st) this.timers?.arm(entry.dialog.callId, entry.dialog.localTag, st.timer, allowsUpdate(entry.tx.request));
  }

  reject(key: string, cause: RejectCause): void {
    const { code, reason } = REJECT_RESPONSES[cause];
    this.respondPending(key, code, reason);
  }

  /** An ACK that stopped our 2xx retransmissions (`matched`), or a stray one. */
  onAck(rq: SipMessage, matched: boolean): void {
    const callId = rq.headers['call-id'] ?? '';
    const localTag = typeof rq.headers.to?.params.tag === 'string' ? rq.headers.to.params.tag : '';
    if (!matched) {
      this.core.logger.debug({ callId }, 'ACK without a pending 2xx (retransmission or not ours); ignored');
      return;
    }
    const sdp = sdpOf(headerString(rq.headers['content-type']), rq.content);
    if (!this.answered.delete(`${callId}|${localTag}`)) {
      // the ACK for a 2xx to a re-INVITE stops the retransmissions; it carries an answer only
      // when that 2xx carried our offer (offerless re-INVITE, RFC 3261 §14.2)
      // §14.1: their re-INVITE is complete once its 2xx is ACKed; an offer of ours may follow
      this.inDialog.exchanges.theirsClosed(`${callId}|${localTag}`, rq.headers.cseq?.seq);
      if (sdp !== undefined && sdp !== '') this.emitSafe('dialog.answer', { callId, localTag, sdp });
      return;
    }
    this.emitSafe('call.confirmed', { callId, localTag, ...(sdp !== undefined && sdp !== '' && { sdp }) });
  }

  /** RFC 3261 §13.3.1.4: no ACK for our 2xx within 64·T1: the dialog is confirmed, but we end it with a BYE. */
  on2xxTimeout(callId: string, localTag: string): void {
    const key = `${callId}|${localTag}`;
    const dialog = this.answered.get(key);
    if (!dialog) {
      this.inDialog.exchanges.theirsClosed(key);
      this.core.logger.warn({ callId }, 'no ACK for our 2xx to a re-INVITE');
      return;
    }
    this.answered.delete(key);
    this.timers?.stop(callId, localTag);
    this.core.logger.warn({ callId }, 'no ACK for our 2xx: ending the dialog with BYE');
    this.inDialog.bye(dialog).catch((err: unknown) => this.core.logger.warn({ err, callId }, 'BYE after the missing ACK failed'));
    this.emitSafe('call.unconfirmed', { callId, localTag });
  }

  private onInvite(rq: SipMessage, tx: ServerTransaction): void {
    // initial INVITE: demultiplex on the Request-URI user (our Contact user = registrationId), To as fallback
    const requestUri = sip.stringifyUri(rq.uri ?? '');
    const to = fromAor(rq.headers.to);
    const from = fromAor(rq.headers.from);
    const contactUser = uriUser(requestUri) ?? uriUser(to?.uri);
    const localContact = contactUser !== undefined ? this.contactOrUndefined(contactUser) : undefined;
    if (!to || !from || !contactUser || !localContact) return this.reply(tx, 404, 'Not Found');
    if (this.events.listenerCount('call.incoming') === 0) return this.reply(tx, 480, 'Temporarily Unavailable');
    // RFC 3262 §3 / RFC 3261 §8.2.2.3: a required 100rel we do not do is refused 420
    const required = hasOptionTag(rq.headers.require, '100rel');
    if (required && this.rel100 === 'disabled') return this.reply(tx, 420, 'Bad Extension', { unsupported: '100rel' });
    const reliable = required || (this.rel100 === 'required' && hasOptionTag(rq.headers.supported, '100rel'));
    // RFC 4028 §9 / §6: an interval below our Min-SE is refused 422 naming it
    const timer = uasTimerFor(rq, this.sessionTimer);
    if (timer.kind === 'too-small') return this.reply(tx, 422, 'Session Interval Too Small', { 'min-se': String(timer.minSeS) });
    const dialog = uasDialogFromInvite(rq, localContact);
    // stored with the session: an instance adopting it can answer this INVITE or run the timer
    const stored = inviteServerOf(rq);
    if (stored) dialog.inviteServer = stored;
    if (timer.kind === 'timer') dialog.sessionTimer = { ...timer.timer, allowsUpdate: allowsUpdate(rq) };
    this.pending.set(tx.id, { tx, dialog, reliable, timer });
    const sdp = sdpOf(headerString(rq.headers['content-type']), rq.content);
    const pai = parseAssertedIdentity(headerString(rq.headers['p-asserted-identity']));
    const incoming: IncomingCall = {
      key: tx.id,
      contactUser,
      requestUri,
      from,
      to,
      ...(pai && { assertedIdentity: pai }),
      ...(sdp !== undefined && { sdp }),
      dialog,
    };
    this.events.emit('call.incoming', incoming);
  }

  private onCancel(rq: SipMessage, tx: ServerTransaction): void {
    const invite = this.core.stack.findInvite(rq);
    if (!invite) return this.reply(tx, 481, 'Call/Transaction Does Not Exist');
    // §9.2: 200 to the CANCEL; if the INVITE has no final response yet, 487 to it
    this.reply(tx, 200, 'OK');
    if (invite.state !== 'proceeding') return;
    this.respondPending(invite.id, 487, 'Request Terminated');
    this.emitSafe('call.cancelled', { callId: rq.headers['call-id'] ?? '', key: invite.id });
  }

  /** §12.2.2: the feature finds the dialog by Call-ID and tags, and answers through the DialogReply. */
  private onDialogRequest(rq: SipMessage, tx: ServerTransaction, localTag: string): void {
    if (this.events.listenerCount('dialog.request') === 0) return this.reply(tx, 481, 'Call/Transaction Does Not Exist');
    const method = rq.method ?? '';
    const fromTag = rq.headers.from?.params.tag;
    const ct = headerString(rq.headers['content-type']);
    const base = {
      callId: rq.headers['call-id'] ?? '',
      localTag,
      ...(typeof fromTag === 'string' && { remoteTag: fromTag }),
      cseq: rq.headers.cseq?.seq ?? 0,
    };
    // RFC 3261 §14.2 / RFC 3311 §5.2 (glare): an offer while ours is in progress gets 491; the
    // far end retries after its §14.1 back-off, and the media state stays the one we negotiate
    // RFC 4028 §10 / RFC 3311 §5.2: an UPDATE without a body in a dialog whose timer we run is a
    // session refresh, not an offer (so no glare either): 200 without a body, timer restarted
    if (method === 'UPDATE' && sdpOf(ct, rq.content) === undefined && this.timers?.get(base.callId, localTag)) {
      const headers = this.refreshed(rq, { ...base, kind: 'offer', method });
      this.respond(tx, 200, 'OK', headers ? { headers } : {});
      return;
    }
    if ((method === 'INVITE' || method === 'UPDATE') && this.inDialog.isOffering(base.callId, localTag)) {
      this.respond(tx, DIALOG_REPLIES.pending.code, DIALOG_REPLIES.pending.reason, {});
      return;
    }
    let request: RemoteDialogRequest;
    if (method === 'BYE') {
      this.timers?.stop(base.callId, localTag);
      this.inDialog.exchanges.forget(`${base.callId}|${localTag}`);
      this.core.stack.dialogEnded(base.callId);
      request = { ...base, kind: 'bye' };
    } else if (method === 'INVITE' || method === 'UPDATE') {
      const sdp = sdpOf(ct, rq.content);
      request = { ...base, kind: 'offer', method, ...(sdp !== undefined && { sdp }) };
    } else if (method === 'INFO') request = { ...base, kind: 'info', ...(ct !== undefined && rq.content && { body: { contentType: ct, content: rq.content } }) };
    else request = { ...base, kind: 'other', method };
    // §14.1: an offer of ours waits until this one is complete (answered, and a 2xx to a re-INVITE ACKed)
    const key = `${base.callId}|${localTag}`;
    if (request.kind === 'offer') this.inDialog.exchanges.theirsOpened(key, base.cseq);
    try {
      this.events.emit('dialog.request', request, this.dialogReply(tx, request));
    } catch (err) {
      this.inDialog.exchanges.theirsClosed(key, base.cseq);
      throw err;
    }
  }

  /** A DialogReply whose first call answers the transaction; later calls are ignored (logged at debug). */
  private dialogReply(tx: ServerTransaction, request: RemoteDialogRequest): DialogReply {
    let used = false;
    const once = (what: string, fn: () => void): void => {
      if (used) {
        this.core.logger.debug({ callId: request.callId, reply: what }, 'dialog request already answered; reply ignored');
        return;
      }
      used = true;
      fn();
      // the offer is complete with a final response, except a 2xx to a re-INVITE: with its ACK (onAck)
      if (request.kind === 'offer' && !(what === 'accept' && request.method === 'INVITE')) this.inDialog.exchanges.theirsClosed(`${request.callId}|${request.localTag}`, request.cseq);
    };
    const send = (name: keyof typeof DIALOG_REPLIES, headers?: Record<string, string>): void =>
      once(name, () => this.respond(tx, DIALOG_REPLIES[name].code, DIALOG_REPLIES[name].reason, headers ? { headers } : {}));
    return {
      // a 2xx to a re-INVITE is retransmitted by the stack until its ACK (§13.3.1.4)
      accept: (media) =>
        once('accept', () => {
          const headers = this.refreshed(tx.request, request);
          const sent = this.respond(tx, 200, 'OK', { ...(media && { sdp: media.sdp, contact: media.dialog.localContact }), ...(headers && { headers }) });
          if (sent && media) this.inDialog.exchanges.answered(`${request.callId}|${request.localTag}`, media.sdp);
          // no 2xx on the wire: no ACK to wait for
          if (!sent) this.inDialog.exchanges.theirsClosed(`${request.callId}|${request.localTag}`, request.cseq);
        }),
      unknownDialog: () => send('unknownDialog'),
      notAcceptable: () => send('notAcceptable'),
      pending: () => send('pending'),
      notAllowed: () => send('notAllowed', { allow: ALLOW }),
      // RFC 3261 §21.5.1: a 500 may carry Retry-After; the far end may try again then
      unavailable: (retryAfterS) => send('unavailable', { 'retry-after': String(Math.max(0, Math.round(retryAfterS))) }),
    };
  }

  /**
   * RFC 4028 §9/§10: a re-INVITE or UPDATE we accept refreshes the session; its Session-Expires
   * (or the current interval) goes in our 2xx and the timer restarts. The headers, or undefined.
   */
  private refreshed(rq: SipMessage, request: RemoteDialogRequest): Record<string, string> | undefined {
    if (request.kind !== 'offer') return undefined;
    const current = this.timers?.get(request.callId, request.localTag);
    if (!current) return undefined;
    const { timer, sessionExpires } = timerForRefreshRequest(rq, current);
    this.timers?.arm(request.callId, request.localTag, timer);
    return { 'session-expires': formatSessionExpires(sessionExpires), ...(sessionExpires.refresher === 'uac' && { require: 'timer' }) };
  }

  /** A response to a pending initial INVITE; a final one releases it. False when nothing was sent. */
  private respondPending(key: string, code: number, reason: string, sdp?: string, headers?: Record<string, string>): boolean {
    const entry = this.pending.get(key);
    if (!entry || entry.tx.state !== 'proceeding') {
      this.core.logger.debug({ key, code }, 'incoming INVITE gone or already answered; response not sent');
      this.pending.delete(key);
      return false;
    }
    if (code >= 200) {
      this.pending.delete(key);
      // RFC 3262 §3: a final response ends the retransmission of our reliable 18x
      this.reliable.forget(key);
    }
    return this.respond(entry.tx, code, reason, { early: entry.dialog, ...(sdp !== undefined && { sdp }), ...(headers && { headers }) });
  }

  /** RFC 3262 §7.2: a PRACK matching our unacknowledged reliable 18x gets 200; any other 481. */
  private onPrack(rq: SipMessage, tx: ServerTransaction): void {
    const localTag = rq.headers.to?.params.tag;
    const dialogKey = `${rq.headers['call-id'] ?? ''}|${typeof localTag === 'string' ? localTag : ''}`;
    if (!this.reliable.acknowledge(dialogKey, headerString(rq.headers.rack))) return this.reply(tx, 481, 'Call/Transaction Does Not Exist');
    this.reply(tx, 200, 'OK');
  }

  /** RFC 3262 §3: a reliable 18x never PRACKed within 64·T1: the INVITE is refused with a 5xx. */
  private onPrackTimeout(key: string): void {
    this.core.logger.warn({ key }, 'reliable provisional response never PRACKed: INVITE refused 500 (RFC 3262 §3)');
    const entry = this.pending.get(key);
    if (!entry) return;
    this.respondPending(key, 500, 'Reliable Provisional Response Not Acknowledged');
    this.emitSafe('call.cancelled', { callId: entry.dialog.callId, key });
  }

  private respond(tx: ServerTransaction, code: number, reason: string, opts: ResponseOptions): boolean {
    const sent = this.core.stack.respond(tx, this.build(tx, code, reason, opts));
    if (!sent) this.core.logger.debug({ callId: tx.request.headers['call-id'], code }, 'transaction gone or already answered; response not sent');
    return sent;
  }

  private build(tx: ServerTransaction, code: number, reason: string, opts: ResponseOptions): SipMessage {
    const rq = tx.request;
    const rs = sip.makeResponse(rq, code, reason);
    const method = rq.method ?? '';
    const success = code >= 200 && code < 300;
    if (opts.early && code > 100) {
      // §8.2.6.2 / §12.1.1: our To tag on every response but 100; Contact and Record-Route on the dialog-forming ones
      const to = rq.headers.to;
      if (to) rs.headers.to = { ...to, params: { ...to.params, tag: opts.early.localTag } };
      if (code < 300) {
        rs.headers.contact = [{ uri: opts.early.localContact, params: {} }];
        if (rq.headers['record-route']?.length) rs.headers['record-route'] = rq.headers['record-route'];
      }
    } else if (success && (method === 'INVITE' || method === 'UPDATE')) {
      // §12.2.2: a 2xx to a target refresh carries our Contact; the R-URI of the request is our Contact
      rs.headers.contact = [{ uri: assertHeaderValue(opts.contact ?? sip.stringifyUri(rq.uri ?? ''), 'Contact'), params: {} }];
    }
    if (success && method === 'INVITE') rs.headers.allow = ALLOW;
    if (opts.headers) Object.assign(rs.headers, opts.headers);
    if (opts.sdp !== undefined) {
      rs.headers['content-type'] = 'application/sdp';
      rs.content = opts.sdp;
    }
    return rs;
  }

  /** Answers outside the feature (OPTIONS, CANCEL, no dialog, no listener): a To tag of our own when the request had none. */
  private reply(tx: ServerTransaction, code: number, reason: string, headers: Record<string, string> = {}): void {
    const rq = tx.request;
    const rs = sip.makeResponse(rq, code, reason);
    if (code > 100 && rq.headers.to && !rq.headers.to.params.tag) rs.headers.to = { ...rq.headers.to, params: { ...rq.headers.to.params, tag: generateTag() } };
    Object.assign(rs.headers, headers);
    this.core.stack.respond(tx, rs);
  }

  private contactOrUndefined(user: string): string | undefined {
    try {
      return this.contactFor(user);
    } catch {
      return undefined;
    }
  }

  /** For events the network already got its answer for: a listener's throw is logged, not answered. */
  private emitSafe<K extends 'call.cancelled' | 'call.confirmed' | 'call.unconfirmed' | 'dialog.answer'>(event: K, ...args: SipEventMap[K]): void {
    try {
      (this.events.emit as (e: K, ...a: SipEventMap[K]) => boolean)(event, ...args);
    } catch (err) {
      this.core.logger.warn({ err, event }, 'SIP event listener threw');
    }
  }
}

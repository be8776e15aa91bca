import * as sip from 'sip';
import type { SipMessage } from 'sip';
import { isChallenge } from '../digest-auth';
import { ackFor2xx, routeUris, uacDialogFromResponse } from '../dialog';
import type { SentRequest } from '../sip-stack';
import { CallHandle, CallSignal, DialogState, OutgoingCall, SipCredentials, SipFailure } from '../sip-gateway';
import { assertHeaderValue, assertUri, extraHeaders, generateCallId, generateTag, headerString, sdpOf, toAor } from '../sip-syntax';
import type { InDialogClient } from './in-dialog-client';
import { Rel100Mode, rel100InviteHeaders, reliableRseq, RseqTracker } from './reliable-provisional';
import { allowsUpdate, parseMinSe, SessionTimerConfig, timerFrom2xx, timerRequestHeaders, withTimerSupported } from './session-timer';
import type { SessionTimers } from './session-timers';
import { ALLOW, UserAgentCore } from './user-agent-core';

/** What a PendingInvite keeps of its INVITE once a 2xx answered it. */
const ANSWERED_INVITE: SipMessage = { headers: {} };

/** An outgoing INVITE while it is pending (and shortly after, for ACKing 2xx retransmissions). */
interface PendingInvite {
  base: DialogState;
  onSignal: (signal: CallSignal) => void;
  credentials?: SipCredentials;
  authed: boolean;
  /** The INVITE was already retried once after a 422 (RFC 4028 §6). */
  retriedTooSmall: boolean;
  /** The INVITE pending; after the first 2xx only its CSeq is kept (`inviteSeq`). */
  request: SipMessage;
  /** Counts the INVITEs sent (a challenge or a 422 sends another): responses to an older one are ignored. */
  attempt: number;
  /** CSeq number of the INVITE pending, which the ACK of each 2xx carries (RFC 3261 §13.2.2.4). */
  inviteSeq: number;
  sent: SentRequest;
  provisionalSeen: boolean;
  cancelRequested: boolean;
  final: boolean;
  /** Remote tag of the dialog the first 2xx confirmed. */
  confirmedTag?: string;
  /** ACK bytes per remote tag, re-sent for each retransmitted 2xx (RFC 3261 §13.2.2.4). */
  acks: Map<string, { wire: Buffer; msg: SipMessage }>;
  /** RSeq of the reliable provisional responses PRACKed, per remote tag (RFC 3262 §4). */
  rseq: RseqTracker;
}

/**
 * The UAC side of an initial INVITE (RFC 3261 §13.2): signals every response to the feature,
 * answers one digest challenge, ACKs every 2xx and CANCELs (§9.1) on request.
 */
export class InviteClient {
  private readonly pending = new Map<string, PendingInvite>();

  constructor(
    private readonly core: UserAgentCore,
    private readonly inDialog: InDialogClient,
    private readonly rel100: Rel100Mode = 'supported',
    /** RFC 4028: what we ask for (expiresS 0: no session timer), and the timers armed on the 2xx. */
    private readonly sessionTimer: SessionTimerConfig = { expiresS: 0, minSeS: 90 },
    private readonly timers?: SessionTimers,
  ) {}

  /** Forgets every pending INVITE (gateway closing). */
  clear(): void {
    this.pending.clear();
  }

  /** Sends the INVITE; throws SipSyntaxError before sending anything when a value would inject CR/LF. */
  invite(call: OutgoingCall, localContact: string, onSignal: (signal: CallSignal) => void): CallHandle {
    if (this.core.isClosed()) throw new SipFailure('transport', 'SIP gateway closed');
    const requestUri = assertUri(call.requestUri, 'Request-URI');
    const callId = generateCallId();
    const localTag = generateTag();
    // RFC 3608 §6: the Service-Route goes first, as a preloaded Route (RFC 3261 §8.1.2)
    const route = (call.route ?? []).map((uri) => assertUri(uri, 'Route'));
    const rq: SipMessage = {
      method: 'INVITE',
      uri: requestUri,
      headers: {
        to: toAor(call.to),
        from: toAor(call.from, { tag: localTag }),
        'call-id': callId,
        cseq: { seq: 1, method: 'INVITE' },
        contact: [{ uri: localContact, params: {} }],
        ...(route.length > 0 && { route: route.map((uri) => ({ uri, params: {} })) }),
        'max-forwards': 70,
        allow: ALLOW,
        // RFC 3262 §4: offer (or insist on) reliable provisional responses
        ...this.optionHeaders(),
        // RFC 4028 §7.1: the interval we want and the smallest we accept
        ...timerRequestHeaders(this.sessionTimer),
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
    const state: PendingInvite = {
      base,
      onSignal,
      ...(call.credentials && { credentials: call.credentials }),
      authed: false,
      retriedTooSmall: false,
      request: rq,
      attempt: 0,
      inviteSeq: 1,
      sent: { branch: '', via: '' },
      provisionalSeen: false,
      cancelRequested: false,
      final: false,
      acks: new Map(),
      rseq: new RseqTracker(),
    };
    this.pending.set(callId, state);
    // RFC 3261 §22.1: signed with the subscriber's last proxy challenge when one is cached
    if (call.credentials) this.core.digest.signPreemptively(rq, call.credentials);
    this.send(state, rq);
    return { callId, dialog: { ...state.base } };
  }

  /**
   * CANCEL (RFC 3261 §9.1). The instance that sent the INVITE uses the INVITE actually pending
   * (after an auth retry: new branch and CSeq) and waits for a provisional response before
   * cancelling; any other instance sends it from the stored `dialog.invite`.
   */
  cancel(dialog: DialogState): void {
    const local = this.pending.get(dialog.callId);
    if (!local) return this.sendCancel(dialog);
    if (local.final) return;
    // §9.1: no CANCEL before a provisional response; it is sent when one arrives
    if (!local.provisionalSeen) {
      local.cancelRequested = true;
      return;
    }
    this.sendCancel(local.base);
  }

  /** Supported (and Require) of our INVITEs: 100rel as configured (RFC 3262 §4), `timer` when session timers are on (RFC 4028 §7.1). */
  private optionHeaders(): Record<string, string> {
    const rel = rel100InviteHeaders(this.rel100);
    const supported = withTimerSupported(rel.supported, this.sessionTimer);
    return { ...rel, ...(supported !== undefined && { supported }) };
  }

  /**
   * RFC 4028 §6 / §7.1: a 422 carries the far end's Min-SE; the INVITE is sent again once (new
   * CSeq, same Call-ID and tag) with Session-Expires and Min-SE raised to it. Undefined when no
   * retry applies. It is signed pre-emptively when a challenge is cached; otherwise a new digest
   * challenge may follow.
   */
  private retryTooSmall(call: PendingInvite, rq: SipMessage, rs: SipMessage): SipMessage | undefined {
    if (call.retriedTooSmall || call.final || this.sessionTimer.expiresS === 0) return undefined;
    const minSe = parseMinSe(rs.headers['min-se']);
    if (minSe === undefined) return undefined;
    call.retriedTooSmall = true;
    call.authed = false;
    const retry = sip.copyMessage(rq, true);
    delete retry.headers.via;
    delete retry.headers.authorization;
    delete retry.headers['proxy-authorization'];
    const cseq = retry.headers.cseq ?? { seq: 1, method: 'INVITE' };
    retry.headers.cseq = { seq: cseq.seq + 1, method: 'INVITE' };
    const floor = Math.max(minSe, this.sessionTimer.minSeS);
    Object.assign(retry.headers, timerRequestHeaders(this.sessionTimer, Math.max(this.sessionTimer.expiresS, floor), floor));
    if (call.credentials) this.core.digest.signPreemptively(retry, call.credentials);
    this.core.logger.info({ callId: call.base.callId, minSe: floor }, '422 Session Interval Too Small: INVITE sent again with the Min-SE offered (RFC 4028 §6)');
    return retry;
  }

  private send(call: PendingInvite, rq: SipMessage): void {
    // the closures hold the attempt's number, not the INVITE: it can be let go after the 2xx
    const attempt = ++call.attempt;
    call.request = rq;
    call.inviteSeq = rq.headers.cseq?.seq ?? 1;
    call.provisionalSeen = false;
    call.sent = this.core.stack.sendRequest(rq, {
      onResponse: (rs) => this.onResponse(call, attempt, rs),
      onTimeout: () => this.finish(call, { kind: 'timeout' }),
      onTransportError: (err) => this.finish(call, { kind: 'transport', message: err.message }),
      // RFC 3263 §4.3: the INVITE went to the next outbound target with a new branch; a CANCEL must carry it
      onRetarget: (sent) => {
        if (call.attempt !== attempt || !call.base.invite) return;
        call.sent = sent;
        call.base = { ...call.base, invite: { ...call.base.invite, branch: sent.branch, via: sent.via } };
      },
    });
    const seq = rq.headers.cseq?.seq ?? 1;
    // CANCEL data always follows the INVITE actually pending (after an auth retry: new branch, CSeq)
    const route = routeUris(rq.headers.route);
    const invite = { requestUri: sip.stringifyUri(rq.uri ?? ''), branch: call.sent.branch, cseq: seq, via: call.sent.via, ...(route.length > 0 && { route }) };
    call.base = { ...call.base, localSeq: seq, invite };
  }

  /** Same R-URI, Call-ID, From, To (no tag), CSeq number and top Via as the INVITE (RFC 3261 §9.1). */
  private sendCancel(d: DialogState): void {
    const inv = d.invite;
    if (!inv) throw new SipFailure('rejected', 'dialog has no pending INVITE to cancel');
    const remote = { uri: d.remoteUri, ...(d.remoteDisplayName ? { displayName: d.remoteDisplayName } : {}) };
    const local = { uri: d.localUri, ...(d.localDisplayName ? { displayName: d.localDisplayName } : {}) };
    const rq: SipMessage = {
      method: 'CANCEL',
      uri: assertUri(inv.requestUri, 'Request-URI'),
      headers: {
        to: toAor(remote),
        from: toAor(local, { tag: d.localTag }),
        'call-id': d.callId,
        cseq: { seq: inv.cseq, method: 'CANCEL' },
        // §9.1: the CANCEL carries the INVITE's Route header field values
        ...(inv.route && inv.route.length > 0 && { route: inv.route.map((uri) => ({ uri: assertUri(uri, 'Route'), params: {} })) }),
        'max-forwards': 70,
      },
    };
    // when another instance sent the INVITE, the proxy answers the CANCEL to that instance's Via:
    // our transaction then just times out quietly
    this.core.stack.sendRequest(
      rq,
      {
        onResponse: (rs) => this.core.logger.debug({ callId: d.callId, status: rs.status }, 'CANCEL answered'),
        onTimeout: () => this.core.logger.debug({ callId: d.callId }, 'CANCEL not answered here'),
        onTransportError: (err) => this.core.logger.warn({ err, callId: d.callId }, 'CANCEL could not be sent'),
      },
      { via: assertHeaderValue(inv.via, 'Via') },
    );
  }

  private finish(call: PendingInvite, signal: CallSignal): void {
    if (call.final) return;
    call.final = true;
    if (this.pending.get(call.base.callId) === call) this.pending.delete(call.base.callId);
    this.signal(call, signal);
  }

  private signal(call: PendingInvite, signal: CallSignal): void {
    try {
      call.onSignal(signal);
    } catch (err) {
      this.core.logger.warn({ err, callId: call.base.callId }, 'onSignal listener threw');
    }
  }

  private onResponse(call: PendingInvite, attempt: number, rs: SipMessage): void {
    if (attempt !== call.attempt) return; // a response to a superseded (challenged) INVITE
    const rq = call.request;
    const status = rs.status ?? 0;
    if (status < 200) return this.onProvisional(call, rs, status);
    if (status < 300) return this.on2xx(call, rs, status);
    if (status === 422) {
      const retry = this.retryTooSmall(call, rq, rs);
      if (retry) return this.send(call, retry);
    }
    if (isChallenge(rs) && call.credentials && !call.authed && !call.final) {
      call.authed = true;
      try {
        // the 401/407 itself was ACKed by the transaction layer (§17.1.1.3)
        this.send(call, this.core.digest.answer(rq, rs, call.credentials));
        return;
      } catch (err) {
        this.core.logger.warn({ err, callId: call.base.callId }, 'unusable digest challenge on INVITE');
      }
    } else if (isChallenge(rs) && call.credentials && !call.final) {
      // §22.2: the credentials answering the challenge were refused too
      this.core.digest.forget(rq, call.credentials);
    }
    this.finish(call, { kind: 'rejected', code: status, reason: rs.reason ?? '' });
  }

  private onProvisional(call: PendingInvite, rs: SipMessage, status: number): void {
    call.provisionalSeen = true;
    if (call.cancelRequested) {
      // §9.1: the CANCEL held back until this first provisional response
      call.cancelRequested = false;
      this.sendCancel(call.base);
    }
    const sdp = sdpOf(headerString(rs.headers['content-type']), rs.content);
    // a late 1xx (Kamailio may relay a 180 after the 200): passed on, but never (re)creates a dialog
    let dialog: DialogState | undefined;
    if (call.confirmedTag === undefined && !call.final) {
      dialog = toTagOf(rs) !== undefined && status > 100 ? this.tryDialog(call.base, rs) : { ...call.base };
    }
    const rseq = reliableRseq(rs);
    if (rseq !== undefined) {
      // RFC 3262 §4: a retransmitted (or out-of-order) reliable 1xx is neither PRACKed nor passed on
      if (!call.rseq.accept(toTagOf(rs) ?? '', rseq)) {
        this.core.logger.debug({ callId: call.base.callId, status, rseq }, 'reliable provisional already PRACKed or out of order: discarded');
        return;
      }
      if (dialog?.remoteTag !== undefined) dialog = this.prack(call, dialog, rseq);
    }
    this.signal(call, { kind: 'provisional', code: status, reason: rs.reason ?? '', ...(sdp !== undefined && { sdp }), ...(dialog && { dialog }) });
  }

  private on2xx(call: PendingInvite, rs: SipMessage, status: number): void {
    const tag = toTagOf(rs) ?? '';
    const known = call.acks.get(tag);
    if (known) {
      this.core.stack.resend(known.wire, known.msg); // §13.2.2.4: retransmitted 2xx, same ACK again
      return;
    }
    const dialog = this.tryDialog(call.base, rs);
    if (!dialog) return;
    // §13.2.2.4: every 2xx is ACKed, even after a CANCEL
    const ack = ackFor2xx(dialog, call.inviteSeq);
    call.acks.set(tag, { wire: this.core.stack.sendStateless(ack), msg: ack });
    if (call.confirmedTag === undefined) {
      call.confirmedTag = tag;
      // RFC 4028 §7.2: the 2xx sets the interval and the refresher; none there, no session timer
      const timer = timerFrom2xx(rs);
      if (timer) this.timers?.arm(dialog.callId, dialog.localTag, timer, allowsUpdate(rs));
      // stored with the session, so that an instance adopting the call runs the same timer
      if (timer) dialog.sessionTimer = { ...timer, allowsUpdate: allowsUpdate(rs) };
      const sdp = sdpOf(headerString(rs.headers['content-type']), rs.content);
      // §13.2.2.4: for the 64·T1 the 2xx may still be retransmitted, only the ACKs and the dialog are needed
      call.request = ANSWERED_INVITE;
      this.finish(call, { kind: 'answered', code: status, reason: rs.reason ?? '', ...(sdp !== undefined && { sdp }), dialog });
      return;
    }
    // RFC 3261 §13.2.2.4: a 2xx from another fork is ACKed, then that dialog is ended with a BYE
    this.core.logger.info({ callId: call.base.callId }, 'second 2xx from another fork: ACK + BYE');
    this.inDialog.bye(dialog, call.credentials).catch((err: unknown) => this.core.logger.warn({ err, callId: call.base.callId }, 'BYE to extra fork failed'));
  }

  /** PRACK (RFC 3262 §7.2) in the early dialog; our CSeq advances so later requests stay above it. */
  private prack(call: PendingInvite, dialog: DialogState, rseq: number): DialogState {
    const inviteSeq = call.inviteSeq;
    const sent = { ...dialog, localSeq: Math.max(dialog.localSeq, call.base.localSeq) };
    call.base = { ...call.base, localSeq: sent.localSeq + 1 };
    this.inDialog
      .prack(sent, { rseq, inviteSeq }, call.credentials)
      .then((res) => {
        if (res.code >= 300) this.core.logger.warn({ callId: call.base.callId, status: res.code, rseq }, 'PRACK refused');
      })
      .catch((err: unknown) => this.core.logger.warn({ err, callId: call.base.callId, rseq }, 'PRACK failed'));
    return { ...sent, localSeq: call.base.localSeq };
  }

  private tryDialog(base: DialogState, rs: SipMessage): DialogState | undefined {
    try {
      return uacDialogFromResponse(base, rs);
    } catch (err) {
      this.core.logger.warn({ err, callId: base.callId }, 'cannot build a dialog from the response');
      return undefined;
    }
  }
}

function toTagOf(rs: SipMessage): string | undefined {
  const t = rs.headers.to?.params.tag;
  return typeof t === 'string' ? t : undefined;
}

import type { SipMessage } from 'sip';
import { buildAuthenticatedRequest, isChallenge } from '../digest-auth';
import { ackFor2xx, contactUri, inDialogRequest } from '../dialog';
import { getDirection, holdDirection, nextVersion, resumeDirection, setDirection } from '../sdp';
import { DialogState, LocationResult, LocationUpdate, MediaChange, ModifyResult, SipBody, SipCredentials, SipFailure } from '../sip-gateway';
import { assertHeaderValue, extraHeaders, headerString, sdpOf, SipSyntaxError } from '../sip-syntax';
import { formatSessionExpires, SessionTimer, timerFrom2xx } from './session-timer';
import type { SessionTimers } from './session-timers';
import { OfferExchanges } from './offer-exchanges';
import { ALLOW, UserAgentCore } from './user-agent-core';

/** The final response to one in-dialog request, with the dialog after it (CSeq advanced). */
export interface InDialogResponse {
  code: number;
  reason: string;
  sdp?: string;
  dialog: DialogState;
  /** The session timer a 2xx to a re-INVITE/UPDATE sets (RFC 4028 §7.2), when it carries one. */
  sessionTimer?: SessionTimer;
}

interface RequestOptions {
  body?: SipBody;
  headers?: Record<string, string>;
  credentials?: SipCredentials;
}

/** A 491 is retried at most this many times (then the refusal stands). */
export const GLARE_RETRIES = 2;

/**
 * RFC 3261 §14.1: after a 491 the owner of the Call-ID (the dialog's UAC) waits 2.1–4 s, the other
 * side 0–2 s, so that the two offers do not collide again. `random` is in [0, 1).
 */
export function glareDelayMs(role: DialogState['role'], random: () => number): number {
  return role === 'uac' ? 2100 + random() * 1900 : random() * 2000;
}

/** The offer `modify` sends for a change (RFC 3264 §8: a new o= version for every new offer). */
export function offerFor(change: MediaChange, answeredSince?: string): string {
  // RFC 3264 §8: after we answered a far-end offer, ours builds on that answer, with a newer o= version
  if (answeredSince !== undefined) return change.kind === 'offer' ? versionAfter(change.sdp, answeredSince) : offerFor({ ...change, localSdp: answeredSince });
  switch (change.kind) {
    case 'offer':
      return change.sdp;
    case 'hold':
      return nextVersion(setDirection(change.localSdp, holdDirection(getDirection(change.localSdp))));
    case 'resume':
      return nextVersion(setDirection(change.localSdp, resumeDirection(getDirection(change.localSdp))));
  }
}

/**
 * Requests we send inside an existing dialog (RFC 3261 §12.2.1): BYE, re-INVITE/UPDATE offers and
 * location UPDATEs. The dialog is plain JSON, so any gateway instance can send them.
 */
export class InDialogClient {
  constructor(
    private readonly core: UserAgentCore,
    /** Random source of the glare back-off; injectable so tests are deterministic. */
    private readonly random: () => number = Math.random,
    /** RFC 4028 timers of the dialogs this instance holds: stopped by BYE, re-armed by our refreshes. */
    private readonly timers?: SessionTimers,
    /** Offer/answer exchanges in progress both ways (§14.1); the server records the far end's. */
    readonly exchanges = new OfferExchanges(),
  ) {}

  /** BYE (RFC 3261 §15.1.1). Throws SipFailure on timeout or transport error. */
  bye(dialog: DialogState, credentials?: SipCredentials): Promise<InDialogResponse> {
    this.timers?.stop(dialog.callId, dialog.localTag);
    this.exchanges.forget(`${dialog.callId}|${dialog.localTag}`);
    return this.request(dialog, 'BYE', credentials ? { credentials } : {});
  }

  /**
   * A new offer: re-INVITE in a confirmed dialog, UPDATE in an early one (RFC 3311 §5.1).
   * 491 → retried after the §14.1 back-off, at most GLARE_RETRIES times.
   */
  async modify(dialog: DialogState, change: MediaChange, credentials?: SipCredentials): Promise<ModifyResult> {
    const method = dialog.state === 'confirmed' ? 'INVITE' : 'UPDATE';
    return this.exchange(dialog, method, credentials, (answered) => offerFor(change, answered));
  }

  /**
   * A session refresh (RFC 4028 §7.4, §10): UPDATE without a body when the far end allows UPDATE,
   * else a re-INVITE with our current SDP unchanged (RFC 3264 §8: same o= version). Glare (491) is
   * retried like any offer. The 2xx re-arms the timer.
   */
  refresh(dialog: DialogState, localSdp: string | undefined, credentials?: SipCredentials): Promise<ModifyResult> {
    const useUpdate = this.timers?.get(dialog.callId, dialog.localTag)?.allowsUpdate === true || localSdp === undefined;
    // a far-end offer answered meanwhile changed our SDP: the refresh carries that one, unchanged
    return this.exchange(dialog, useUpdate ? 'UPDATE' : 'INVITE', credentials, (answered) => (useUpdate ? undefined : (answered ?? localSdp)));
  }

  /**
   * An offer (or refresh) with the §14.1 glare retries; 481/408 end the dialog (§12.2.1.2).
   * `offerNow` gives the body of each attempt from what we answered to a far-end offer since the
   * exchange began (undefined: nothing), so that a retry after their offer builds on our answer.
   */
  private async exchange(dialog: DialogState, method: 'INVITE' | 'UPDATE', credentials: SipCredentials | undefined, offerNow: (answered?: string) => string | undefined): Promise<ModifyResult> {
    const key = `${dialog.callId}|${dialog.localTag}`;
    const mark = this.exchanges.mark(key);
    let current = dialog;
    for (let attempt = 0; ; attempt++) {
      // RFC 3261 §14.1 / RFC 3311 §5.1: not while a far-end offer is still in progress in this dialog
      if (this.exchanges.hasTheirs(key)) await this.exchanges.theirsSettled(key);
      const offer = offerNow(this.exchanges.sentSince(key, mark));
      const opts: RequestOptions = { ...(offer !== undefined && { body: { contentType: 'application/sdp', content: offer } }), ...(credentials && { credentials }) };
      const res = await this.offer(current, method, opts);
      current = res.dialog;
      if (res.code === 491 && attempt < GLARE_RETRIES) {
        const delay = glareDelayMs(current.role, this.random);
        this.core.logger.info({ callId: current.callId, delayMs: Math.round(delay), attempt: attempt + 1 }, `${method} glare (491): retrying after the back-off`);
        await new Promise<void>((resolve) => setTimeout(resolve, delay));
        continue;
      }
      const { code, reason } = res;
      if (code >= 200 && code < 300) current = this.rearm(current, res.sessionTimer);
      if (code === 481 || code === 408) {
        this.timers?.stop(current.callId, current.localTag);
        this.exchanges.forget(key);
      }
      if (code >= 200 && code < 300) return { outcome: 'accepted', code, reason, offer: offer ?? '', ...(res.sdp !== undefined && { answer: res.sdp }), dialog: current };
      // RFC 3261 §12.2.1.2: 481 or 408 to a request in a dialog ends the dialog
      if (code === 481 || code === 408) return { outcome: 'gone', code, reason, dialog: current };
      return { outcome: 'refused', code, reason, dialog: current };
    }
  }

  /**
   * PRACK for a reliable provisional response (RFC 3262 §7.2): in the early dialog, RAck = its RSeq
   * and the INVITE's CSeq number and method. The non-INVITE transaction retransmits it; the UAS
   * retransmits its 1xx until it arrives.
   */
  prack(dialog: DialogState, rack: { rseq: number; inviteSeq: number }, credentials?: SipCredentials): Promise<InDialogResponse> {
    return this.request(dialog, 'PRACK', { headers: { RAck: `${rack.rseq} ${rack.inviteSeq} INVITE` }, ...(credentials && { credentials }) });
  }

  /**
   * Whether an offer of ours is in progress in this dialog: a re-INVITE or UPDATE from the far end
   * must then be answered 491 (RFC 3261 §14.2, RFC 3311 §5.2). Known on the instance that sent it.
   */
  isOffering(callId: string, localTag: string): boolean {
    return this.exchanges.isOffering(`${callId}|${localTag}`);
  }

  /**
   * RFC 4028 §7.4: a 2xx to our re-INVITE/UPDATE is a refresh; its Session-Expires sets the new
   * timer. One without (a far end that does not know the extension) keeps the current timer, so
   * that a timer we keep for ourselves is not dropped by a UA that never heard of it.
   */
  private rearm(dialog: DialogState, timer: SessionTimer | undefined): DialogState {
    const current = this.timers?.get(dialog.callId, dialog.localTag);
    const next = timer ?? current;
    if (!next) return dialog;
    this.timers?.arm(dialog.callId, dialog.localTag, next);
    // the dialog as stored carries the timer, for an instance that adopts the call
    const allowsUpdate = this.timers?.get(dialog.callId, dialog.localTag)?.allowsUpdate ?? false;
    return { ...dialog, sessionTimer: { intervalS: next.intervalS, refresher: next.refresher, allowsUpdate } };
  }

  private async offer(dialog: DialogState, method: 'INVITE' | 'UPDATE', opts: RequestOptions): Promise<InDialogResponse> {
    const key = `${dialog.callId}|${dialog.localTag}`;
    this.exchanges.ourStarted(key);
    // RFC 4028 §7.4: a refresh (any re-INVITE/UPDATE of ours) states the interval and that we refresh
    const timer = this.timers?.get(dialog.callId, dialog.localTag);
    const withTimer: RequestOptions = timer
      ? { ...opts, headers: { ...opts.headers, Supported: 'timer', 'Session-Expires': formatSessionExpires({ deltaS: timer.intervalS, refresher: timer.refresher === 'local' ? 'uac' : 'uas' }) } }
      : opts;
    try {
      return await this.request(dialog, method, withTimer);
    } finally {
      this.exchanges.ourEnded(key);
    }
  }

  /** UPDATE carrying a location (RFC 6442 §4.3); delivered when the far end answers 2xx. */
  async sendLocation(dialog: DialogState, update: LocationUpdate, credentials?: SipCredentials): Promise<LocationResult> {
    const res = await this.request(dialog, 'UPDATE', { headers: update.headers, body: update.body, ...(credentials && { credentials }) });
    return { delivered: res.code >= 200 && res.code < 300, code: res.code, reason: res.reason, dialog: res.dialog };
  }

  /**
   * One request in the dialog with CSeq = localSeq + 1, answering at most one digest challenge.
   * The 2xx to a re-INVITE is ACKed, and so is every retransmission of it (RFC 3261 §13.2.2.4).
   */
  private request(dialog: DialogState, method: 'BYE' | 'INVITE' | 'UPDATE' | 'PRACK', opts: RequestOptions): Promise<InDialogResponse> {
    if (this.core.isClosed()) return Promise.reject(new SipFailure('transport', 'SIP gateway closed'));
    let first: SipMessage;
    try {
      first = this.build(dialog, method, opts, dialog.localSeq + 1);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new SipSyntaxError(String(err)));
    }
    return new Promise<InDialogResponse>((resolve, reject) => {
      let authed = false;
      let settled = false;
      let ack: { wire: Buffer; msg: SipMessage } | undefined;
      const send = (rq: SipMessage): void => {
        const seq = rq.headers.cseq?.seq ?? dialog.localSeq + 1;
        this.core.stack.sendRequest(rq, {
          onResponse: (rs) => {
            const status = rs.status ?? 0;
            if (status < 200) return;
            if (method === 'INVITE' && status < 300) {
              if (ack) return this.core.stack.resend(ack.wire, ack.msg);
              const msg = ackFor2xx({ ...dialog, localSeq: seq, remoteTarget: refreshedTarget(dialog, rs) }, seq);
              ack = { wire: this.core.stack.sendStateless(msg), msg };
            }
            if (settled) return;
            if (isChallenge(rs) && opts.credentials && !authed) {
              authed = true;
              try {
                return send(buildAuthenticatedRequest(rq, rs, opts.credentials));
              } catch (err) {
                this.core.logger.warn({ err, callId: dialog.callId }, 'unusable digest challenge in dialog');
              }
            }
            settled = true;
            const sdp = sdpOf(headerString(rs.headers['content-type']), rs.content);
            // §12.2.1.2: a 2xx to a target refresh request updates the remote target
            const remoteTarget = status < 300 ? refreshedTarget(dialog, rs) : dialog.remoteTarget;
            const sessionTimer = status < 300 && (method === 'INVITE' || method === 'UPDATE') ? timerFrom2xx(rs) : undefined;
            resolve({ code: status, reason: rs.reason ?? '', ...(sdp !== undefined && { sdp }), ...(sessionTimer && { sessionTimer }), dialog: { ...dialog, localSeq: seq, remoteTarget } });
          },
          onTimeout: () => {
            if (!settled) reject(new SipFailure('timeout', `${method} timed out`));
            settled = true;
          },
          onTransportError: (err) => {
            if (!settled) reject(new SipFailure('transport', `${method} could not be sent: ${err.message}`));
            settled = true;
          },
        });
      };
      send(first);
    });
  }

  private build(dialog: DialogState, method: string, opts: RequestOptions, seq: number): SipMessage {
    const rq = inDialogRequest(dialog, method, seq);
    Object.assign(rq.headers, extraHeaders(opts.headers));
    if (method === 'INVITE' || method === 'UPDATE') rq.headers.allow = ALLOW;
    if (opts.body) {
      rq.headers['content-type'] = assertHeaderValue(opts.body.contentType, 'Content-Type');
      rq.content = opts.body.content;
    }
    return rq;
  }
}

/** The remote target after a 2xx to a target refresh request (INVITE, UPDATE; RFC 3261 §12.2.1.2, RFC 3311 §5.1). */
function refreshedTarget(dialog: DialogState, rs: SipMessage): string {
  const method = rs.headers.cseq?.method;
  if (method !== 'INVITE' && method !== 'UPDATE') return dialog.remoteTarget;
  return contactUri(rs) ?? dialog.remoteTarget;
}

/**
 * The app's new offer with an o= version above the SDP we last sent (RFC 3264 §8), when it is not
 * already above it; the app's SDP otherwise unchanged.
 */
export function versionAfter(sdp: string, previous: string): string {
  const version = (text: string): bigint | undefined => {
    const v = /^o=\S+ \S+ (\d{1,20}) /m.exec(text)?.[1];
    return v === undefined ? undefined : BigInt(v);
  };
  const prev = version(previous);
  const mine = version(sdp);
  if (prev === undefined || mine === undefined || mine > prev) return sdp;
  return sdp.replace(/^(o=\S+ \S+ )\d{1,20} /m, `$1${(prev + 1n).toString()} `);
}

import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { badGateway, incompatibleState, notFound, unavailable } from '../common/errors/api-error';
import type { RootLogger } from '../common/logging/root-logger';
import { adaptAnswerToOffer, getDirection } from '../sip/sdp';
import { DialogReply, DialogState, MediaChange, RemoteDialogRequest, SipCredentials, SipFailure, SipGateway } from '../sip/sip-gateway';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { MediaSession } from '../store/session-store';
import { parseAppSdp } from './app-sdp';
import { MediaSessionStatusChange } from './dto/media-session.dto';
import { LocationInput, planLocationUpdate, toApiError } from './emergency';
import { IncomingCalls } from './incoming-calls';
import { Action, PHASE } from './session-status';
import { localSdpOf, refusalError, SessionTransitions } from './session-transitions';

/** Retry-After of the 500 to an in-dialog request we could not look up (store outage, RFC 3261 §21.5.1). */
export const STORE_RETRY_AFTER_S = 5;
/** A BYE that met a store outage is applied again at this interval, for at most BYE_REPLAY_LIMIT_MS. */
export const BYE_REPLAY_INTERVAL_MS = 1000;
export const BYE_REPLAY_LIMIT_MS = 10 * 60_000;

/**
 * Changes to a session after it was set up, from either side: the app holds, resumes, re-offers,
 * sends a new location or deletes; the far end re-offers (re-INVITE / UPDATE) or hangs up (BYE).
 */
@Injectable()
export class SessionUpdates implements OnApplicationShutdown {
  /** BYEs received during a store outage, applied again until the store answers. */
  private readonly byeReplays = new Set<NodeJS.Timeout>();
  /** Sessions with an offer of ours (app change or session refresh) under way on this instance. */
  private readonly offering = new Map<string, number>();
  /** Far-end offers waiting in a session's queue: run at once when an offer of ours starts (RFC 3261 §14.1). */
  private readonly queuedOffers = new Map<string, Set<() => Promise<void>>>();

  constructor(
    private readonly config: AppConfig,
    private readonly transitions: SessionTransitions,
    private readonly incoming: IncomingCalls,
    private readonly sip: SipGateway,
    private readonly credentials: SipCredentialsProvider,
    private readonly clock: Clock,
  ) {}

  /** PUT /status on an outgoing call in setup or an established call (runs in the session's queue). */
  async change(s: MediaSession, body: MediaSessionStatusChange, log?: RootLogger): Promise<void> {
    const offer = body.offer ? parseAppSdp(body.offer.sdp, this.config.sdp.profile, 'offer.sdp') : undefined;
    const { decision, session } = await this.transitions.handle(
      s.mediaSessionId,
      { kind: 'app-status', status: body.status, hasOffer: offer !== undefined, hasAnswer: body.answer !== undefined, hasLocation: body.locationDetails !== undefined },
      { session: s, log },
    );
    if (decision?.kind !== 'go' || !session) return;
    for (const a of decision.actions) {
      if (a.kind === 'modify') await this.modify(session, modification(a.change, offer, session));
      else if (a.kind === 'send-location' && body.locationDetails) await this.sendLocation(session, body.locationDetails);
      else throw new Error(`session update: unexpected action ${a.kind}`);
    }
  }

  /** DELETE: CANCEL or 603 before a final answer, BYE once connected; 204 either way, then 404. */
  async remove(s: MediaSession, log?: RootLogger): Promise<void> {
    const id = s.mediaSessionId;
    const { decision, session } = await this.transitions.handle(id, { kind: 'app-delete' }, { session: s, view: { holdsInvite: this.incoming.holds(id) }, log });
    if (!session) throw notFound(`Session ${id} not found.`);
    if (decision?.kind === 'go') await this.perform(decision.actions, session);
  }

  onApplicationShutdown(): void {
    for (const t of this.byeReplays) clearTimeout(t);
    this.byeReplays.clear();
  }

  /**
   * A request from the far end inside one of our dialogs. A store error is never read as "no such
   * dialog": the request gets 500 with Retry-After, and a BYE is also applied again here until the
   * store answers, so that no session stays Connected after its BYE.
   */
  async onDialogRequest(req: RemoteDialogRequest, reply: DialogReply): Promise<void> {
    let found: MediaSession | undefined;
    try {
      found = await this.transitions.findByDialog(req.callId, req.localTag);
    } catch (err) {
      this.storeFault(req, reply, err);
      return;
    }
    if (!found?.dialog) {
      reply.unknownDialog();
      return;
    }
    const id = found.mediaSessionId;
    switch (req.kind) {
      case 'bye':
        try {
          await this.transitions.serial(id, () => this.transitions.handle(id, { kind: 'remote-bye' }));
        } catch (err) {
          this.storeFault(req, reply, err);
          return;
        }
        reply.accept();
        return;
      case 'offer':
        await this.remoteOffer(id, req, reply);
        return;
      case 'info':
        // RFC 6086 §4.2.2: an INFO we have no use for is still answered 200.
        reply.accept();
        return;
      case 'other':
        reply.notAllowed();
        return;
    }
  }

  /**
   * RFC 4028 §10: we refresh the session (the SIP port picks UPDATE or re-INVITE with our current
   * SDP). A refresh the far end answers 408/481, or that times out, ends the session like an
   * expiry (BYE); any other refusal leaves it to the expiry timer.
   */
  async onRefreshDue(callId: string, localTag: string): Promise<void> {
    const found = await this.transitions.findByDialog(callId, localTag);
    if (!found?.dialog || PHASE[found.status] !== 'established') return;
    await this.refresh(found.mediaSessionId, (d) => d);
  }

  /**
   * An established call this instance just adopted from a lost one: the dialog takes our Contact
   * and its stored session timer runs here (`SipGateway.takeOver`), then a target refresh (RFC 3261
   * §12.2.1.2: re-INVITE with our last SDP unchanged, RFC 3264 §8, or UPDATE without a body when
   * the far end allows it, RFC 3311 §5.1) makes the far end send its requests here. It is also a
   * session refresh (RFC 4028 §7.4); a 408/481 to it ends the call like a failed refresh.
   */
  async afterAdoption(id: string): Promise<void> {
    await this.refresh(id, (d) => this.sip.takeOver(d));
  }

  /** A refresh of ours in the session's queue, with the stored dialog as `prepare` makes it; the new dialog is stored. */
  private async refresh(id: string, prepare: (d: DialogState) => DialogState): Promise<void> {
    await this.transitions.serial(id, async () => {
      const s = await this.transitions.load(id);
      if (!s?.dialog || PHASE[s.status] !== 'established') return;
      let why: string | undefined;
      try {
        const dialog = prepare(s.dialog);
        const res = await this.whileOffering(id, () => this.sip.refreshSession(dialog, localSdpOf(s), this.credentialsOf(s)));
        await this.transitions.patch(id, (x) => ({ ...x, dialog: keepRemoteSeq(res.dialog, x) }), false);
        if (res.outcome === 'gone') why = `the refresh was answered ${res.code} ${res.reason}`;
        else if (res.outcome === 'refused') this.transitions.warn(id, `session refresh refused (${res.code} ${res.reason}); the expiry timer still runs`, undefined);
      } catch (err) {
        if (!(err instanceof SipFailure)) throw err;
        why = `the refresh failed (${err.kind})`;
      }
      if (why !== undefined) await this.expire(id, why);
    });
  }

  /** RFC 4028 §10: no refresh in time: the state machine ends the session and we send BYE. */
  async onSessionExpired(callId: string, localTag: string): Promise<void> {
    const found = await this.transitions.findByDialog(callId, localTag);
    if (!found) return;
    const id = found.mediaSessionId;
    await this.transitions.serial(id, () => this.expire(id, 'no session refresh before the expiry'));
  }

  private async expire(id: string, why: string): Promise<void> {
    const { decision, session } = await this.transitions.handle(id, { kind: 'session-expired', why });
    if (decision?.kind === 'go' && session) await this.perform(decision.actions, session);
  }

  /** The ACK's answer to the offer we made in the 2xx to an offerless re-INVITE (RFC 3261 §14.2). */
  async onAckAnswer(callId: string, localTag: string, sdp: string): Promise<void> {
    const found = await this.transitions.findByDialog(callId, localTag);
    if (!found) return;
    const id = found.mediaSessionId;
    await this.transitions.serial(id, () =>
      this.transitions.handle(id, { kind: 'remote-answer', holds: isHolding(sdp) }, { edit: (x, d) => (d.storeAnswer ? { ...x, offer: localSdpOf(x) ?? x.offer, answer: sdp, remoteSdp: sdp } : x) }),
    );
  }

  private storeFault(req: RemoteDialogRequest, reply: DialogReply, err: unknown): void {
    this.transitions.warn(undefined, `in-dialog ${req.kind} during a store fault: 500 with Retry-After`, err);
    reply.unavailable(STORE_RETRY_AFTER_S);
    if (req.kind === 'bye') this.replayBye(req.callId, req.localTag, this.clock.now() + BYE_REPLAY_LIMIT_MS);
  }

  /** The far end considers its session ended once it sent BYE (RFC 3261 §15.1.1), whatever we answered. */
  private replayBye(callId: string, localTag: string, until: number): void {
    const timer = setTimeout(() => {
      this.byeReplays.delete(timer);
      void this.applyBye(callId, localTag).catch((err: unknown) => {
        if (this.clock.now() < until) this.replayBye(callId, localTag, until);
        else this.transitions.warn(undefined, `BYE for ${callId} could not be applied before the replay limit`, err);
      });
    }, BYE_REPLAY_INTERVAL_MS);
    timer.unref();
    this.byeReplays.add(timer);
  }

  private async applyBye(callId: string, localTag: string): Promise<void> {
    const found = await this.transitions.findByDialog(callId, localTag);
    if (!found) return;
    const id = found.mediaSessionId;
    await this.transitions.serial(id, () => this.transitions.handle(id, { kind: 'remote-bye' }));
  }

  /**
   * A far-end offer normally waits its turn in the session's queue. RFC 3261 §14.1 wants it
   * answered while an offer of ours waits out its glare back-off (ours is sent only after theirs
   * completed), and ours runs in that queue: so while one of ours is under way, theirs is answered
   * at once, and one already queued is run when ours starts. (While ours is on the wire the SIP
   * port answers theirs 491 itself, RFC 3261 §14.2.)
   */
  private async remoteOffer(id: string, req: Extract<RemoteDialogRequest, { kind: 'offer' }>, reply: DialogReply): Promise<void> {
    let started: Promise<void> | undefined;
    const run = (): Promise<void> => (started ??= this.onRemoteOffer(id, req, reply));
    if (this.offering.has(id)) return run();
    const queued = this.queuedOffers.get(id) ?? new Set<() => Promise<void>>();
    this.queuedOffers.set(id, queued.add(run));
    try {
      await this.transitions.serial(id, run);
    } finally {
      queued.delete(run);
      if (queued.size === 0 && this.queuedOffers.get(id) === queued) this.queuedOffers.delete(id);
    }
  }

  /** Runs an offer of ours (`modify`, `refreshSession`): far-end offers meanwhile skip the queue (see remoteOffer). */
  private async whileOffering<T>(id: string, fn: () => Promise<T>): Promise<T> {
    this.offering.set(id, (this.offering.get(id) ?? 0) + 1);
    for (const run of this.queuedOffers.get(id) ?? []) void run().catch((err: unknown) => this.transitions.warn(id, 'far-end offer failed', err));
    try {
      return await fn();
    } finally {
      const left = (this.offering.get(id) ?? 1) - 1;
      if (left > 0) this.offering.set(id, left);
      else this.offering.delete(id);
    }
  }

  /**
   * A re-INVITE or UPDATE from the network, answered with our last SDP adapted to the new offer's
   * direction (RFC 3264 §8); the state machine decides Hold / Resume / new media.
   */
  private async onRemoteOffer(id: string, req: Extract<RemoteDialogRequest, { kind: 'offer' }>, reply: DialogReply): Promise<void> {
    const cur = await this.transitions.load(id);
    if (!cur?.dialog || PHASE[cur.status] === 'final') {
      reply.unknownDialog();
      return;
    }
    const local = localSdpOf(cur);
    let answer: string | undefined;
    if (local !== undefined && req.sdp) {
      try {
        answer = adaptAnswerToOffer(local, req.sdp);
      } catch (err) {
        reply.notAcceptable();
        this.transitions.warn(id, 'could not answer the re-offer', err);
        return;
      }
    }
    const dialog = { ...cur.dialog, remoteSeq: req.cseq };
    const { decision } = await this.transitions.handle(
      id,
      { kind: 'remote-offer', method: req.method, offer: req.sdp ? (isHolding(req.sdp) ? 'holds' : 'active') : 'none' },
      { edit: (x) => ({ ...x, dialog, ...(req.sdp && answer !== undefined && { offer: req.sdp, answer, localSdp: answer, remoteSdp: req.sdp }) }) },
    );
    const actions = decision?.kind === 'go' ? decision.actions : [];
    if (actions.some((a) => a.kind === 'offer-pending')) reply.pending();
    // RFC 3311 §5.2: an UPDATE without a body (a session refresh, RFC 4028) is answered without one
    else if (actions.some((a) => a.kind === 'accept-offer')) reply.accept(req.method === 'UPDATE' && !req.sdp ? undefined : { sdp: answer ?? local ?? '', dialog });
    else reply.unknownDialog();
  }

  /** New media from the app's side: the SIP port sends it (re-INVITE, or UPDATE when early) and the answer decides. */
  private async modify(s: MediaSession, change: MediaChange): Promise<void> {
    if (!s.dialog) throw incompatibleState('The session has no SIP dialog yet.');
    const dialog = s.dialog;
    const result = await this.whileOffering(s.mediaSessionId, () => this.sip.modify(dialog, change, this.credentialsOf(s))).catch((err: unknown) => {
      throw unavailable(`The new offer could not be delivered (${err instanceof Error ? err.message : String(err)}).`);
    });
    const method = s.dialog.state === 'confirmed' ? 'INVITE' : 'UPDATE';
    await this.transitions.patch(s.mediaSessionId, (x) => ({ ...x, dialog: keepRemoteSeq(result.dialog, x) }), false);
    const { decision } = await this.transitions.handle(
      s.mediaSessionId,
      { kind: 'modified', change: change.kind, method, outcome: result.outcome, code: result.code, reason: result.reason },
      {
        edit: (x) =>
          result.outcome === 'accepted' ? { ...x, offer: result.offer, localSdp: result.offer, ...(result.answer !== undefined && { answer: result.answer, remoteSdp: result.answer }) } : x,
      },
    );
    if (decision?.kind === 'go' && decision.fail) throw refusalError(decision.fail);
  }

  /** A new location on an established call: in-dialog UPDATE with Geolocation and the PIDF-LO (RFC 6442 §4.3). */
  private async sendLocation(s: MediaSession, location: LocationInput): Promise<void> {
    if (!s.dialog) throw incompatibleState('The session has no SIP dialog yet.');
    let update: ReturnType<typeof planLocationUpdate>;
    try {
      update = planLocationUpdate(location, {
        domain: this.config.sip.domain,
        entity: `sip:${s.phoneNumber}@${this.config.sip.domain}`,
        ...(s.deviceId && { deviceId: `urn:uuid:${s.deviceId}` }),
        now: () => new Date(this.clock.now()),
        routing: s.callType === 'EMERGENCY',
      });
    } catch (err) {
      throw toApiError(err) ?? err;
    }
    const res = await this.sip.sendLocation(s.dialog, { headers: update.headers, body: update.body }, this.credentialsOf(s)).catch((err: unknown) => {
      throw unavailable(`The location UPDATE could not be delivered (${err instanceof Error ? err.message : String(err)}).`);
    });
    const saved = await this.transitions.patch(s.mediaSessionId, (x) => ({
      ...x,
      dialog: res.dialog,
      ...(res.delivered && { locationDetails: location as unknown as Record<string, unknown>, sequenceNumber: x.sequenceNumber + 1 }),
    }));
    if (!res.delivered) throw badGateway(`The far end refused the location UPDATE (${res.code} ${res.reason}).`);
    if (saved) await this.transitions.publish(saved);
  }

  /** Actions of a DELETE. */
  private async perform(actions: readonly Action[], s: MediaSession): Promise<void> {
    for (const a of actions) {
      if (a.kind === 'hang-up') {
        if (s.dialog) await this.sip.hangUp(s.dialog, this.credentialsOf(s)).catch((err: unknown) => this.transitions.warn(s.mediaSessionId, 'hang-up failed', err));
      } else {
        this.incoming.perform([a], s);
      }
    }
  }

  private credentialsOf(s: MediaSession): SipCredentials | undefined {
    return this.credentials.get(s.phoneNumber);
  }
}

/** What a `modify` action sends: the app's new offer, or our current SDP put on hold / resumed. */
function modification(change: MediaChange['kind'], offer: string | undefined, s: MediaSession): MediaChange {
  const local = localSdpOf(s);
  if (change === 'offer' && offer !== undefined) return { kind: 'offer', sdp: offer };
  if (change !== 'offer' && local !== undefined) return { kind: change, localSdp: local };
  throw new Error(`session ${s.mediaSessionId}: ${change} without the SDP it needs`);
}

/** Our dialog after an offer of ours, keeping the CSeq of a far-end request answered meanwhile (§12.2.2). */
function keepRemoteSeq(dialog: DialogState, stored: MediaSession): DialogState {
  const remoteSeq = Math.max(dialog.remoteSeq ?? 0, stored.dialog?.remoteSeq ?? 0);
  return remoteSeq > 0 ? { ...dialog, remoteSeq } : dialog;
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

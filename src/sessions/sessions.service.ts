import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import type { Principal } from '../common/auth/principal';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { requirePhoneNumber } from '../common/auth/scopes.decorator';
import { notFound } from '../common/errors/api-error';
import { Cluster } from '../cluster/cluster';
import { SipGateway } from '../sip/sip-gateway';
import { MediaSession } from '../store/session-store';
import { MediaSessionCreate, MediaSessionResponse, MediaSessionStatusChange } from './dto/media-session.dto';
import { IncomingCalls } from './incoming-calls';
import { toMediaSessionResponse } from './media-session.mapper';
import { OutgoingCalls } from './outgoing-calls';
import { OwnerForwarding, refuseWhileDraining } from './owner-forwarding';
import { PHASE } from './session-status';
import { SessionTransitions } from './session-transitions';
import { SessionUpdates } from './session-updates';

export { ACTIVE_SESSION_TTL_MS } from './session-transitions';

/**
 * webrtc-call-handling, as the controllers see it. Each use case lives in its own file:
 * `outgoing-calls.ts` (POST → INVITE → responses), `incoming-calls.ts` (INVITE → invitation →
 * answer), `session-updates.ts` (hold, resume, re-offer, location, BYE, DELETE); every decision is
 * `session-status.ts`'s, and `session-transitions.ts` stores and reports it.
 */
@Injectable()
export class SessionsService implements OnModuleInit {
  constructor(
    private readonly sip: SipGateway,
    private readonly transitions: SessionTransitions,
    private readonly outgoing: OutgoingCalls,
    private readonly incoming: IncomingCalls,
    private readonly updates: SessionUpdates,
    @Inject(ROOT_LOGGER) logger: RootLogger,
    @Optional() private readonly cluster?: Cluster,
  ) {
    this.owners = new OwnerForwarding(cluster, logger);
  }

  private readonly owners: OwnerForwarding;

  /** Traffic the network starts reaches the use cases here. */
  onModuleInit(): void {
    const failed = (what: string) => (err: unknown) => this.transitions.warn(undefined, what, err);
    this.sip.on('call.incoming', (inc) => void this.incoming.offer(inc).catch((err: unknown) => this.incoming.refuse(inc, err)));
    this.sip.on('call.cancelled', (c) => void this.incoming.onCallerCancelled(c.key).catch(failed('CANCEL handling failed')));
    this.sip.on('call.confirmed', (a) => void this.incoming.onAck(a.callId, a.localTag, true, a.sdp).catch(failed('ACK handling failed')));
    this.sip.on('call.unconfirmed', (a) => void this.incoming.onAck(a.callId, a.localTag, false).catch(failed('missing-ACK handling failed')));
    this.sip.on('dialog.request', (req, reply) => void this.updates.onDialogRequest(req, reply).catch(failed('in-dialog request failed')));
    this.sip.on('dialog.answer', (a) => void this.updates.onAckAnswer(a.callId, a.localTag, a.sdp).catch(failed('answer in an ACK failed')));
    this.sip.on('dialog.refresh-due', (d) => void this.updates.onRefreshDue(d.callId, d.localTag).catch(failed('session refresh failed')));
    this.sip.on('dialog.expired', (d) => void this.updates.onSessionExpired(d.callId, d.localTag).catch(failed('session timer expiry failed')));
    // requests another instance forwards to this one, the owner of the session (the check `own` is done again here)
    this.owners.serve({
      'update-status': (p, id, body, log) => this.updateStatus(p, id, body as MediaSessionStatusChange, true, log),
      remove: (p, id, _body, log) => this.remove(p, id, true, log),
    });
  }

  /** `log` (here and below): the request's logger, whose lines carry its x-correlator. */
  create(principal: Principal, registrationId: string, body: MediaSessionCreate, log?: RootLogger): Promise<MediaSessionResponse> {
    refuseWhileDraining(this.cluster);
    return this.outgoing.create(principal, registrationId, body, log);
  }

  async get(principal: Principal, id: string): Promise<MediaSessionResponse> {
    return toMediaSessionResponse(await this.own(principal, id));
  }

  /**
   * DELETE: CANCEL before a final answer, BYE once connected; 204 either way, then 404. On the
   * instance that drives the session its own copy is decided on (no store read): the write is a
   * compare-and-set, so a copy that another instance's write made stale is read again and decided anew.
   */
  async remove(principal: Principal, id: string, forwarded = false, log?: RootLogger): Promise<void> {
    const s = await this.own(principal, id, false);
    if (!forwarded && (await this.owners.forward(s, 'remove', undefined, log))) return;
    await this.transitions.serial(id, async () => {
      await this.updates.remove(await this.current(id, false), log);
    });
  }

  /**
   * PUT /status, either party: the callee answers an incoming call; either party holds, resumes,
   * re-offers or sends a new location on an established call. What does not fit → 409.
   */
  async updateStatus(principal: Principal, id: string, body: MediaSessionStatusChange, forwarded = false, log?: RootLogger): Promise<MediaSessionResponse> {
    const owned = await this.own(principal, id);
    const remote = forwarded ? undefined : await this.owners.forward(owned, 'update-status', body, log);
    if (remote) return remote.value as MediaSessionResponse;
    const waitAck = await this.transitions.serial(id, async () => {
      const s = await this.current(id);
      if (s.direction === 'incoming' && PHASE[s.status] === 'early') return this.incoming.answer(s, body, log);
      await this.updates.change(s, body, log);
      return undefined;
    });
    if (waitAck) await waitAck.acked;
    return toMediaSessionResponse(await this.own(principal, id));
  }

  /** The session as stored now, inside its queue (another request may have deleted it meanwhile); `fresh` false: this instance's copy if it drives it. */
  private async current(id: string, fresh = true): Promise<MediaSession> {
    const s = await this.transitions.load(id, fresh);
    if (!s || s.deleted) throw notFound(`Session ${id} not found.`);
    return s;
  }

  /** The caller's own, not deleted session, or 404 (never someone else's data); `fresh` false: this instance's copy if it drives it. */
  async own(principal: Principal, id: string, fresh = true): Promise<MediaSession> {
    const phoneNumber = requirePhoneNumber(principal);
    const s = id.length <= 256 ? await this.transitions.load(id, fresh) : undefined;
    if (!s || s.deleted || s.phoneNumber !== phoneNumber) throw notFound(`Session ${id.slice(0, 64)} not found.`);
    return s;
  }
}

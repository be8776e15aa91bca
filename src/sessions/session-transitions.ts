import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { ApiError, badGateway, incompatibleState, invalidArgument } from '../common/errors/api-error';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { WebrtcEventType } from '../domain/webrtc-event-type';
import { Cluster } from '../cluster/cluster';
import { EventPublisher, StagedEvent } from '../events/event-publisher';
import { SipFailure } from '../sip/sip-gateway';
import { MediaSession, SessionStore } from '../store/session-store';
import type { QuotaExceeded } from '../store/quota';
import { CallSetupKpis } from './call-setup-kpis';
import { CALL_TELEMETRY, CallTelemetry } from './call-telemetry';
import { toEventData } from './media-session.mapper';
import { Decision, isFinal, onEvent, Refusal, SessionEvent, SessionView } from './session-status';

/** How long a live session record lasts without any write (a call longer than this loses its state). */
export const ACTIVE_SESSION_TTL_MS = 24 * 3600_000;

export type Go = Extract<Decision, { kind: 'go' }>;

/** What `handle` did: the decision taken, and the session as stored after it (undefined: gone). */
export interface Handled {
  decision?: Decision;
  session?: MediaSession;
}

export interface HandleOptions {
  /** Instance-local facts for the view (e.g. whether this instance holds the INVITE). */
  view?: Partial<SessionView>;
  /** Further changes to store with a `go` decision (answer SDP, dialog…), decided again on a conflict. */
  edit?: (s: MediaSession, d: Go) => MediaSession;
  /** The session as just read from the store by the caller (app requests may reach any instance); decided on first. */
  session?: MediaSession;
  /** Decide only while this holds for the stored record (e.g. still owned by a lost instance); else nothing is done. */
  only?: (s: MediaSession) => boolean;
  /** The logger of the app request that caused the event (its lines carry the x-correlator); else the root logger. */
  log?: RootLogger;
}

/**
 * One session transition: load → decide (`onEvent`) → persist (compare-and-set, decided again on
 * the fresh record after a conflict) → log, measure and report the session-status event. Also the
 * per-session work queue, this instance's copy of the sessions it drives, and the ring timers.
 */
@Injectable()
export class SessionTransitions implements OnApplicationShutdown {
  /** Per-session work queue on this instance: SIP signals, timers and app requests apply in order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Sessions this instance drives (sent or received the INVITE): avoids a read before each transition. */
  private readonly cache = new Map<string, MediaSession>();
  private readonly ringTimers = new Map<string, NodeJS.Timeout>();
  readonly kpis: CallSetupKpis;

  constructor(
    private readonly config: AppConfig,
    private readonly store: SessionStore,
    private readonly events: EventPublisher,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
    @Optional() @Inject(CALL_TELEMETRY) telemetry?: CallTelemetry,
    @Optional() private readonly cluster?: Cluster,
  ) {
    this.kpis = new CallSetupKpis(() => this.clock.now(), telemetry);
  }

  onApplicationShutdown(): void {
    for (const t of this.ringTimers.values()) clearTimeout(t);
    this.ringTimers.clear();
  }

  /**
   * Stores a new session this instance drives (and owns: its transactions and timers are here),
   * unless its number already has `maxPerNumber` (> 0) in progress.
   */
  async create(session: MediaSession, maxPerNumber = 0): Promise<MediaSession | QuotaExceeded> {
    const owned = this.cluster ? { ...session, owner: this.cluster.instanceId } : session;
    const refused = await this.store.create(owned, ACTIVE_SESSION_TTL_MS, maxPerNumber);
    if (refused) return refused;
    const stored = { ...owned, version: 1 };
    this.cache.set(session.mediaSessionId, stored);
    return stored;
  }

  load(id: string, fresh = false): Promise<MediaSession | undefined> {
    const cached = fresh ? undefined : this.cache.get(id);
    return cached ? Promise.resolve(cached) : this.store.get(id);
  }

  /** Ids of the sessions this instance drives and has in its cache (not final). */
  driven(): string[] {
    return [...this.cache.keys()];
  }

  findByDialog(callId: string, localTag: string): Promise<MediaSession | undefined> {
    return this.store.findByDialog(callId, localTag);
  }

  /** Decides `event` for the session and stores the outcome; a refusal throws its CAMARA error. */
  async handle(id: string, event: SessionEvent, opts: HandleOptions = {}): Promise<Handled> {
    for (let attempt = 0; attempt < 5; attempt++) {
      // the cached session is used as it is, without a promise around it (one microtask less per event)
      const cur = attempt === 0 ? (opts.session ?? this.cache.get(id) ?? (await this.store.get(id))) : await this.store.get(id);
      if (!cur || (opts.only && !opts.only(cur))) return {};
      const decision = onEvent(viewOf(cur, opts.view), event);
      if (decision.kind === 'ignore') {
        (opts.log ?? this.logger).debug({ mediaSessionId: id, callId: cur.dialog?.callId, event: event.kind }, `ignored: ${decision.why}`);
        return { decision, session: cur };
      }
      if (decision.kind === 'refuse') throw refusalError(decision.refusal);
      const changes = decision.next !== cur.status || decision.report || decision.deleted === true || decision.cancelledBy !== undefined;
      if (!changes && !opts.edit) return { decision, session: cur };
      const next = this.next(cur, decision, opts.edit);
      const written = await this.write(cur, next, decision.report ? this.stage(next) : undefined);
      if (!written) continue;
      const publishing = this.after(cur, written.session, decision, written.reported, opts.log ?? this.logger);
      if (publishing) await publishing;
      return { decision, session: written.session };
    }
    throw new Error(`session ${id}: too many concurrent updates`);
  }

  /**
   * Compare-and-set of changes that are not a transition (dialog data, the app's answer),
   * re-applied on the fresh record after a conflict. Undefined when the session is gone.
   */
  async patch(id: string, edit: (s: MediaSession) => MediaSession, touch = true): Promise<MediaSession | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = attempt === 0 ? (this.cache.get(id) ?? (await this.store.get(id))) : await this.store.get(id);
      if (!cur) return undefined;
      const edited = edit(cur);
      // nothing changed (e.g. a provisional response repeating the stored dialog): no write
      if (!touch && isDeepStrictEqual(edited, cur)) return cur;
      const written = await this.write(cur, { ...edited, ...(touch && { updatedAt: this.clock.now() }) });
      if (written) return written.session;
    }
    throw new Error(`session ${id}: too many concurrent updates`);
  }

  /** Runs `fn` after everything queued before it for the same session (on this instance). */
  serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return run;
  }

  /** Arms the ring timeout of a session in setup; cleared when the session ends. */
  armRingTimer(id: string, onTimeout: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.ringTimers.delete(id);
      this.serial(id, onTimeout).catch((err: unknown) => this.warn(id, 'ring timeout handling failed', err));
    }, this.config.sip.ringTimeoutMs);
    timer.unref();
    this.ringTimers.set(id, timer);
  }

  async publish(s: MediaSession, type: typeof WebrtcEventType.sessionStatus | typeof WebrtcEventType.sessionInvitation = WebrtcEventType.sessionStatus): Promise<void> {
    if (!s.deviceId) return;
    await this.events
      .publish({ phoneNumber: s.phoneNumber, deviceId: s.deviceId }, type, toEventData(s))
      .catch((err: unknown) => this.logger.error({ mediaSessionId: s.mediaSessionId, err }, `could not enqueue ${type} event`));
  }

  warn(id: string | undefined, what: string, err: unknown, log: RootLogger = this.logger): void {
    const detail = err instanceof SipFailure ? `${err.kind} ${err.status ?? ''} ${err.message}` : err instanceof Error ? err.message : String(err);
    log.warn({ mediaSessionId: id, err: detail }, what);
  }

  private next(cur: MediaSession, d: Go, edit: HandleOptions['edit']): MediaSession {
    const edited = edit ? edit(cur, d) : cur;
    const marks = { ...(d.cancelledBy && { cancelledBy: d.cancelledBy }), ...(d.deleted && { deleted: true }), updatedAt: this.clock.now() };
    if (d.next === cur.status && !d.report) return { ...edited, ...marks };
    const statusChange = d.next !== cur.status && {
      status: d.next,
      // a reason without a code (BYE, no ACK, timer expiry) must not be reported with an older response's code
      sipCode: d.code ?? (d.reason !== undefined ? undefined : cur.sipCode),
      sipReason: d.reason ?? cur.sipReason,
      ...(isFinal(d.next) && { endedAt: this.clock.now() }),
    };
    return { ...edited, ...marks, ...statusChange, sequenceNumber: cur.sequenceNumber + 1 };
  }

  /**
   * Compare-and-set of `next`; with a staged event, the event is persisted in the same store step
   * (`reported`). Undefined on a conflict.
   */
  private async write(cur: MediaSession, next: MediaSession, staged?: StagedEvent): Promise<{ session: MediaSession; reported: boolean } | undefined> {
    const ttl = Math.max(1000, isFinal(next.status) ? this.config.sessions.retentionS * 1000 : ACTIVE_SESSION_TTL_MS);
    const id = cur.mediaSessionId;
    let written: { session: MediaSession; reported: boolean } | undefined;
    if (staged) {
      const r = await this.store.updateAndFanOut(next, cur.version, ttl, staged.request);
      const fanOut = r?.fanOut;
      if (fanOut?.kind === 'enqueued') staged.settle(fanOut);
      written = r && { session: r.session, reported: fanOut?.kind === 'enqueued' };
    } else {
      const session = await this.store.update(next, cur.version, ttl);
      written = session && { session, reported: false };
    }
    if (!written) {
      this.cache.delete(id);
      return undefined;
    }
    if (this.cache.has(id)) this.cache.set(id, written.session);
    return written;
  }

  /** The session-status event of `next`, to persist with its write (undefined: nobody to report to, or a publisher that cannot stage). */
  private stage(next: MediaSession): StagedEvent | undefined {
    return next.deviceId ? this.events.stage({ phoneNumber: next.phoneNumber, deviceId: next.deviceId }, WebrtcEventType.sessionStatus, toEventData(next)) : undefined;
  }

  /**
   * Log, KPIs and the session-status event of a stored decision. Synchronous unless the event was
   * not persisted with the write and must be published now (then the returned promise): the usual
   * transition adds no promise.
   */
  private after(prev: MediaSession, saved: MediaSession, d: Go, reported: boolean, log: RootLogger): Promise<void> | undefined {
    const id = saved.mediaSessionId;
    if (d.next !== prev.status) {
      this.kpis.observe(saved, d.next, d.code, d.reason, d.code ?? prev.sipCode);
      log.info({ mediaSessionId: id, callId: saved.dialog?.callId, sipCode: d.code, from: prev.status, to: d.next }, `session ${id} ${prev.status} → ${d.next}${d.code ? ` (${d.code})` : ''}`);
    }
    if (isFinal(d.next)) {
      const t = this.ringTimers.get(id);
      if (t) clearTimeout(t);
      this.ringTimers.delete(id);
      this.cache.delete(id);
    }
    return d.report && !reported ? this.publish(saved) : undefined;
  }
}

/** The facts `onEvent` decides on, from the stored session and what only this instance knows. */
export function viewOf(s: MediaSession, local: Partial<SessionView> = {}): SessionView {
  return {
    status: s.status,
    direction: s.direction,
    ...(s.cancelledBy && { cancelledBy: s.cancelledBy }),
    hasRemoteTag: s.dialog?.remoteTag !== undefined,
    hasLocalSdp: localSdpOf(s) !== undefined,
    // the app answered (or, for an offerless INVITE, offered): our SDP is known
    answered: s.direction === 'incoming' && (s.answer !== undefined || s.localSdp !== undefined),
    holdsInvite: false,
    offerless: s.direction === 'incoming' && s.remoteSdp === undefined,
    ...local,
  };
}

/** The SDP our side last sent (to hold, resume or answer a re-offer from). */
export function localSdpOf(s: MediaSession): string | undefined {
  return s.localSdp ?? (s.direction === 'outgoing' ? s.offer : s.answer);
}

export function refusalError(r: Refusal): ApiError {
  switch (r.error) {
    case 'INCOMPATIBLE_STATE':
      return incompatibleState(r.message);
    case 'INVALID_ARGUMENT':
      return invalidArgument(r.message);
    case 'BAD_GATEWAY':
      return badGateway(r.message);
  }
}

import type Redis from 'ioredis';
import { Clock } from '../../common/clock';
import { MediaSession, SessionStore } from '../session-store';
import type { FanOutRequest, FanOutResult } from '../event-queue';
import { isFinal } from '../../domain/media-session-status';
import { QuotaExceeded, quotaExceeded } from '../quota';
import { bindScripts, guard, keys, RunScript, scriptRunner } from './redis-client';
import { sessionScripts } from './lua-scripts';
import { MAX_STALE_REPLIES, RedisFanOut, Reply } from './redis-fan-out';

type Scripts = {
  sessCreate(k1: string, k2: string, k3: string, k4: string, json: string, ttl: number, dialog: string, id: string, active: string, max: number): Promise<number>;
  sessUpdate(k1: string, k2: string, k3: string, k4: string, expected: number, json: string, ttl: number, dialog: string, id: string, active: string): Promise<number>;
  sessCountActive(k1: string): Promise<number>;
};

const dialogKey = (s: MediaSession): string => (s.dialog ? `${s.dialog.callId}|${s.dialog.localTag}` : '');
const ttlArg = (ttlMs: number): number => Math.max(1, Math.round(ttlMs));

/**
 * SessionStore on Redis, shared by every gateway instance. Sessions share the hash tag of the
 * subscriptions and event queues (lua-scripts.ts), so a transition and the fan-out of its event are
 * one script (`updateAndFanOut`).
 */
export class RedisSessionStore extends SessionStore {
  private readonly k;
  private readonly redis: Redis;
  private readonly lua: Scripts;
  private readonly run: RunScript;
  private readonly fanOuts: RedisFanOut;

  constructor(
    redis: Redis,
    prefix: string,
    private readonly clock: Clock = Clock.system,
  ) {
    super();
    this.k = keys(prefix);
    this.redis = redis;
    this.lua = bindScripts(redis, sessionScripts) as unknown as Scripts;
    this.run = scriptRunner(redis);
    this.fanOuts = new RedisFanOut(this.k);
  }

  async create(s: MediaSession, ttlMs: number, maxPerNumber = 0): Promise<QuotaExceeded | undefined> {
    const dialog = dialogKey(s);
    const created = await guard('session.create', () =>
      this.lua.sessCreate(
        this.k.session(s.mediaSessionId),
        this.k.sessionByCallId(dialog),
        this.k.sessionsActive(),
        this.k.sessionsByNumber(s.phoneNumber),
        JSON.stringify({ ...s, version: 1 }),
        ttlArg(ttlMs),
        dialog,
        s.mediaSessionId,
        isFinal(s.status) ? '0' : '1',
        maxPerNumber,
      ),
    );
    return created < 0 ? quotaExceeded(-created, maxPerNumber) : undefined;
  }

  async get(id: string): Promise<MediaSession | undefined> {
    const [v, d] = await guard('session.get', () => this.redis.hmget(this.k.session(id), 'v', 'd'));
    if (!v || !d) return undefined;
    const s = JSON.parse(d) as MediaSession;
    s.version = Number(v);
    return s;
  }

  async findByDialog(callId: string, localTag: string): Promise<MediaSession | undefined> {
    const id = await guard('session.findByDialog', () => this.redis.get(this.k.sessionByCallId(`${callId}|${localTag}`)));
    return id ? this.get(id) : undefined;
  }

  async update(next: MediaSession, expectedVersion: number, ttlMs: number): Promise<MediaSession | undefined> {
    const dialog = dialogKey(next);
    const json = JSON.stringify({ ...next, version: expectedVersion + 1 });
    const ok = await guard('session.update', () =>
      this.lua.sessUpdate(
        this.k.session(next.mediaSessionId),
        this.k.sessionByCallId(dialog),
        this.k.sessionsActive(),
        this.k.sessionsByNumber(next.phoneNumber),
        expectedVersion,
        json,
        ttlArg(ttlMs),
        dialog,
        next.mediaSessionId,
        isFinal(next.status) ? '0' : '1',
      ),
    );
    // what a get would now return: a copy, as JSON stores it
    return ok === 1 ? (JSON.parse(json) as MediaSession) : undefined;
  }

  override async updateAndFanOut(
    next: MediaSession,
    expectedVersion: number,
    ttlMs: number,
    event: FanOutRequest,
  ): Promise<{ session: MediaSession; fanOut?: FanOutResult } | undefined> {
    const dialog = dialogKey(next);
    const json = JSON.stringify({ ...next, version: expectedVersion + 1 });
    const sessionKeys = [this.k.session(next.mediaSessionId), this.k.sessionByCallId(dialog), this.k.sessionsActive(), this.k.sessionsByNumber(next.phoneNumber)];
    const sessionArgs = [expectedVersion, json, ttlArg(ttlMs), dialog, next.mediaSessionId, isFinal(next.status) ? '0' : '1'];
    return guard('session.updateAndFanOut', async () => {
      for (let stale = 0; stale < MAX_STALE_REPLIES; stale++) {
        const attempt = this.fanOuts.attempt(event, this.clock.now());
        const r = await this.run<Reply[]>(sessionScripts.sessUpdateFanOut, [...sessionKeys, ...attempt.keys], [...sessionArgs, ...attempt.args]);
        const code = Number(r[0]);
        if (code === 0) return undefined;
        const fanOut = code === 1 ? attempt.read(r[1], r[2], r[3], undefined) : attempt.read(-1, undefined, undefined, r[1]);
        if (fanOut) return { session: JSON.parse(json) as MediaSession, fanOut };
      }
      throw new Error(`the subscriptions of ${event.phoneNumber}|${event.deviceId} kept changing during a transition`);
    });
  }

  async countActiveByNumber(phoneNumber: string): Promise<number> {
    return guard('session.countActiveByNumber', () => this.redis.zcount(this.k.sessionsByNumber(phoneNumber), `(${Date.now()}`, '+inf'));
  }

  async countActive(): Promise<number> {
    return guard('session.countActive', () => this.lua.sessCountActive(this.k.sessionsActive()));
  }
}

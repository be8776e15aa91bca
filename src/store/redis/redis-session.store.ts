import type Redis from 'ioredis';
import { MediaSession, SessionStore } from '../session-store';
import { isFinal } from '../../domain/media-session-status';
import { QuotaExceeded, quotaExceeded } from '../quota';
import { defineScripts, guard, keys } from './redis-client';
import { sessionScripts } from './lua-scripts';

type Scripts = {
  sessCreate(k1: string, k2: string, k3: string, k4: string, json: string, ttl: number, dialog: string, id: string, active: string, max: number): Promise<number>;
  sessUpdate(k1: string, k2: string, k3: string, k4: string, expected: number, json: string, ttl: number, dialog: string, id: string, active: string): Promise<number>;
  sessCountActive(k1: string): Promise<number>;
};

const dialogKey = (s: MediaSession): string => (s.dialog ? `${s.dialog.callId}|${s.dialog.localTag}` : '');
const ttlArg = (ttlMs: number): number => Math.max(1, Math.round(ttlMs));

/** SessionStore on Redis, shared by every gateway instance. */
export class RedisSessionStore extends SessionStore {
  private readonly k;
  private readonly redis: Redis & Scripts;

  constructor(redis: Redis, prefix: string) {
    super();
    this.k = keys(prefix);
    defineScripts(redis, sessionScripts);
    this.redis = redis as Redis & Scripts;
  }

  async create(s: MediaSession, ttlMs: number, maxPerNumber = 0): Promise<QuotaExceeded | undefined> {
    const dialog = dialogKey(s);
    const created = await guard('session.create', () =>
      this.redis.sessCreate(
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
      this.redis.sessUpdate(
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

  async countActiveByNumber(phoneNumber: string): Promise<number> {
    return guard('session.countActiveByNumber', () => this.redis.zcount(this.k.sessionsByNumber(phoneNumber), `(${Date.now()}`, '+inf'));
  }

  async countActive(): Promise<number> {
    return guard('session.countActive', () => this.redis.sessCountActive(this.k.sessionsActive()));
  }
}

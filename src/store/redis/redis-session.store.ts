import type Redis from 'ioredis';
import { MediaSession, SessionStore } from '../session-store';
import { isFinal } from '../../domain/media-session-status';
import { defineScripts, guard, keys } from './redis-client';

// Hash { v: version, d: JSON }. Create and CAS update are one Lua call each (one round trip),
// and keep the dialog index and the index of active sessions in step.
//
// Active sessions are a sorted set scored by when the record expires (Redis server time + ttl),
// so an id whose record expired while active (its instance crashed before the final status)
// ages out instead of being counted for ever. Server time, not the instance's clock: it is the
// clock PEXPIRE uses, and the same for every instance.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
const CREATE = `${NOW}
redis.call('HSET', KEYS[1], 'v', 1, 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2]) end
if ARGV[5] == '1' then redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[4]) else redis.call('ZREM', KEYS[3], ARGV[4]) end
return 1`;
const UPDATE = `${NOW}
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[3]) end
if ARGV[6] == '1' then redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[5]) else redis.call('ZREM', KEYS[3], ARGV[5]) end
return 1`;
const COUNT_ACTIVE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`;

type Scripts = {
  sessCreate(k1: string, k2: string, k3: string, json: string, ttl: number, dialog: string, id: string, active: string): Promise<number>;
  sessUpdate(k1: string, k2: string, k3: string, expected: number, json: string, ttl: number, dialog: string, id: string, active: string): Promise<number>;
  sessCountActive(k1: string): Promise<number>;
};

const dialogKey = (s: MediaSession): string => (s.dialog ? `${s.dialog.callId}|${s.dialog.localTag}` : '');
const ttlArg = (ttlMs: number): number => Math.max(1, Math.round(ttlMs));

/** SessionStore on Redis, shared by every gateway instance. */
export class RedisSessionStore extends SessionStore {
  private readonly k;
  private readonly redis: Redis & Scripts;

  constructor(redis: Redis, private readonly prefix: string) {
    super();
    this.k = keys(prefix);
    defineScripts(redis, {
      sessCreate: { keys: 3, lua: CREATE },
      sessUpdate: { keys: 3, lua: UPDATE },
      sessCountActive: { keys: 1, lua: COUNT_ACTIVE },
    });
    this.redis = redis as Redis & Scripts;
  }

  /**
   * Sorted set id → expiry (server ms). Not `sessactive`: that was a plain SET in earlier
   * versions, and ZADD on it would fail with WRONGTYPE during a rolling upgrade.
   */
  private activeKey(): string {
    return `${this.prefix}sessactive:z`;
  }

  async create(s: MediaSession, ttlMs: number): Promise<void> {
    const dialog = dialogKey(s);
    await guard('session.create', () =>
      this.redis.sessCreate(
        this.k.session(s.mediaSessionId),
        this.k.sessionByCallId(dialog),
        this.activeKey(),
        JSON.stringify({ ...s, version: 1 }),
        ttlArg(ttlMs),
        dialog,
        s.mediaSessionId,
        isFinal(s.status) ? '0' : '1',
      ),
    );
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
        this.activeKey(),
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

  async countActive(): Promise<number> {
    return guard('session.countActive', () => this.redis.sessCountActive(this.activeKey()));
  }
}

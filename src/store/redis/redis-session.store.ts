import type Redis from 'ioredis';
import { MediaSession, SessionStore } from '../session-store';
import { isFinal } from '../../sessions/session-status';
import { guard, keys } from './redis-client';

// Hash { v: version, d: JSON }. Create and CAS update are one Lua call each (one round trip),
// and keep the Call-ID index and the set of active sessions in step.
const CREATE = `
redis.call('HSET', KEYS[1], 'v', 1, 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2]) end
if ARGV[5] == '1' then redis.call('SADD', KEYS[3], ARGV[4]) else redis.call('SREM', KEYS[3], ARGV[4]) end
return 1`;
const UPDATE = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[3]) end
if ARGV[6] == '1' then redis.call('SADD', KEYS[3], ARGV[5]) else redis.call('SREM', KEYS[3], ARGV[5]) end
return 1`;

type Scripts = {
  sessCreate(k1: string, k2: string, k3: string, json: string, ttl: number, callId: string, id: string, active: string): Promise<number>;
  sessUpdate(k1: string, k2: string, k3: string, expected: number, json: string, ttl: number, callId: string, id: string, active: string): Promise<number>;
};

/** SessionStore on Redis, shared by every gateway instance. */
export class RedisSessionStore extends SessionStore {
  private readonly k;
  private readonly redis: Redis & Scripts;

  constructor(redis: Redis, private readonly prefix: string) {
    super();
    this.k = keys(prefix);
    if (!('sessCreate' in redis)) {
      redis.defineCommand('sessCreate', { numberOfKeys: 3, lua: CREATE });
      redis.defineCommand('sessUpdate', { numberOfKeys: 3, lua: UPDATE });
    }
    this.redis = redis as Redis & Scripts;
  }

  private activeKey(): string {
    return `${this.prefix}sessactive`;
  }

  async create(s: MediaSession, ttlMs: number): Promise<void> {
    const callId = s.dialog ? `${s.dialog.callId}|${s.dialog.localTag}` : '';
    await guard('session.create', () =>
      this.redis.sessCreate(
        this.k.session(s.mediaSessionId),
        this.k.sessionByCallId(callId),
        this.activeKey(),
        JSON.stringify({ ...s, version: 1 }),
        Math.max(1, Math.round(ttlMs)),
        callId,
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
    const callId = next.dialog ? `${next.dialog.callId}|${next.dialog.localTag}` : '';
    const ok = await guard('session.update', () =>
      this.redis.sessUpdate(
        this.k.session(next.mediaSessionId),
        this.k.sessionByCallId(callId),
        this.activeKey(),
        expectedVersion,
        JSON.stringify(next),
        Math.max(1, Math.round(ttlMs)),
        callId,
        next.mediaSessionId,
        isFinal(next.status) ? '0' : '1',
      ),
    );
    return ok === 1 ? { ...next, version: expectedVersion + 1 } : undefined;
  }

  async countActive(): Promise<number> {
    return guard('session.countActive', () => this.redis.scard(this.activeKey()));
  }
}

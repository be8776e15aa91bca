import type Redis from 'ioredis';
import { Clock } from '../../common/clock';
import { MediaSession, SessionStore } from '../session-store';
import type { FanOutRequest, FanOutResult } from '../event-queue';
import { isFinal } from '../../domain/media-session-status';
import { QuotaExceeded, quotaExceeded } from '../quota';
import { bindScripts, guard, keys, RunScript, scriptRunner } from './redis-client';
import { sessionScripts } from './lua-scripts';
import { MAX_STALE_REPLIES, RedisFanOut, Reply } from './redis-fan-out';
import { FieldChanges, sessionFields, sessionFromHash, sessionValues, SessionValues, storedCopy, WrittenFields } from './session-fields';

type Scripts = {
  sessCountActive(k1: string): Promise<number>;
};

const dialogKey = (s: MediaSession): string => (s.dialog ? `${s.dialog.callId}|${s.dialog.localTag}` : '');
const ttlArg = (ttlMs: number): number => Math.max(1, Math.round(ttlMs));

/** ARGV of an update (lua/session.lua.ts WRITE): only the fields that changed since this instance wrote `expectedVersion` (`WrittenFields#changes`). */
function writeArgs(next: MediaSession, expectedVersion: number, ttlMs: number, dialog: string, c: FieldChanges): (string | number)[] {
  const args: (string | number)[] = [expectedVersion, ttlArg(ttlMs), dialog, next.mediaSessionId, isFinal(next.status) ? '0' : '1', c.set.length / 2, c.del.length, c.replace ? '1' : '0'];
  for (const x of c.set) args.push(x);
  for (const x of c.del) args.push(x);
  return args;
}

/**
 * SessionStore on Redis, shared by every gateway instance. Sessions share the hash tag of the
 * subscriptions and event queues (lua-scripts.ts), so a transition and the fan-out of its event are
 * one script (`updateAndFanOut`). A session is a hash with one JSON field per property; an update
 * writes the fields that changed since this instance's last write of it (`WrittenFields`).
 */
export class RedisSessionStore extends SessionStore {
  private readonly k;
  private readonly redis: Redis;
  private readonly lua: Scripts;
  private readonly run: RunScript;
  private readonly fanOuts: RedisFanOut;
  private readonly fields = new WrittenFields();

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
    const final = isFinal(s.status);
    const values = sessionValues(s);
    const created = await guard('session.create', () =>
      this.run<number>(sessionScripts.sessCreate, this.recordKeys(s, dialog), [ttlArg(ttlMs), dialog, s.mediaSessionId, final ? '0' : '1', maxPerNumber, ...sessionFields(values)]),
    );
    if (created < 0) return quotaExceeded(-created, maxPerNumber);
    this.fields.written(s.mediaSessionId, values, 1, final);
    return undefined;
  }

  async get(id: string): Promise<MediaSession | undefined> {
    return sessionFromHash(await guard('session.get', () => this.redis.hgetall(this.k.session(id))));
  }

  async findByDialog(callId: string, localTag: string): Promise<MediaSession | undefined> {
    const id = await guard('session.findByDialog', () => this.redis.get(this.k.sessionByCallId(`${callId}|${localTag}`)));
    return id ? this.get(id) : undefined;
  }

  async update(next: MediaSession, expectedVersion: number, ttlMs: number): Promise<MediaSession | undefined> {
    const dialog = dialogKey(next);
    const changes = this.fields.changes(next, expectedVersion);
    const args = writeArgs(next, expectedVersion, ttlMs, dialog, changes);
    const ok = await guard('session.update', () => this.run<number>(sessionScripts.sessUpdate, this.recordKeys(next, dialog), args));
    return this.settled(next, expectedVersion, ok === 1, changes.values);
  }

  override async updateAndFanOut(next: MediaSession, expectedVersion: number, ttlMs: number, event: FanOutRequest): Promise<{ session: MediaSession; fanOut?: FanOutResult } | undefined> {
    const dialog = dialogKey(next);
    const sessionKeys = this.recordKeys(next, dialog);
    const changes = this.fields.changes(next, expectedVersion);
    const sessionArgs = writeArgs(next, expectedVersion, ttlMs, dialog, changes);
    return guard('session.updateAndFanOut', async () => {
      for (let stale = 0; stale < MAX_STALE_REPLIES; stale++) {
        const attempt = this.fanOuts.attempt(event, this.clock.now());
        const r = await this.run<Reply[]>(sessionScripts.sessUpdateFanOut, [...sessionKeys, ...attempt.keys], [...sessionArgs, ...attempt.args]);
        const code = Number(r[0]);
        if (code === 0) {
          this.settled(next, expectedVersion, false, changes.values);
          return undefined;
        }
        const fanOut = code === 1 ? attempt.read(r[1], r[2], r[3], undefined) : attempt.read(-1, undefined, undefined, r[1]);
        if (fanOut) return { session: this.settled(next, expectedVersion, true, changes.values) as MediaSession, fanOut };
      }
      throw new Error(`the subscriptions of ${event.phoneNumber}|${event.deviceId} kept changing during a transition`);
    });
  }

  /** KEYS of the session scripts: the record, its dialog index, both indexes of non-final sessions. */
  private recordKeys(s: MediaSession, dialog: string): string[] {
    return [this.k.session(s.mediaSessionId), this.k.sessionByCallId(dialog), this.k.sessionsActive(), this.k.sessionsByNumber(s.phoneNumber)];
  }

  /** After an update (`values`: `next` as serialised for it): what a get would now return (a copy), or undefined on a conflict. */
  private settled(next: MediaSession, expectedVersion: number, ok: boolean, values: SessionValues): MediaSession | undefined {
    if (!ok) {
      this.fields.forget(next.mediaSessionId);
      return undefined;
    }
    this.fields.written(next.mediaSessionId, values, expectedVersion + 1, isFinal(next.status));
    return storedCopy(values, expectedVersion + 1);
  }

  async countActiveByNumber(phoneNumber: string): Promise<number> {
    return guard('session.countActiveByNumber', () => this.redis.zcount(this.k.sessionsByNumber(phoneNumber), `(${Date.now()}`, '+inf'));
  }

  async countActive(): Promise<number> {
    return guard('session.countActive', () => this.lua.sessCountActive(this.k.sessionsActive()));
  }
}

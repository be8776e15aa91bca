import Redis from 'ioredis';
import { StoreUnavailableError } from '../../common/errors/store-unavailable.error';
import type { LuaScript } from './lua-scripts';

/** DI token for the one ioredis client of the process (quit in onModuleDestroy by the StoreModule). */
export abstract class RedisClient extends Redis {}

export function createRedisClient(url: string): Redis {
  return new Redis(url, {
    // Fail fast instead of queueing while Redis is away: requests get 503, not a hang.
    enableOfflineQueue: false,
    // Commands issued in the same tick (several calls' transitions, an event fan-out) go out in
    // one write: fewer syscalls per call under load.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
    connectTimeout: 2000,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

/**
 * Registers Lua scripts as ioredis commands (EVALSHA, loaded on first use) on a client shared by
 * several stores: each command is defined once, whichever store comes first. A script with
 * `keysPerItem` takes a variable number of keys: its caller passes `numkeys` first.
 */
export function defineScripts(redis: Redis, scripts: Record<string, LuaScript>): void {
  for (const [name, script] of Object.entries(scripts)) {
    if (name in redis) continue;
    redis.defineCommand(name, script.keysPerItem ? { lua: script.lua } : { numberOfKeys: script.keys.length, lua: script.lua });
  }
}

/** Runs a Redis operation, translating connection failures into StoreUnavailableError. */
export async function guard<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StoreUnavailableError(operation, err);
  }
}

/** Every key the gateway writes. `prefix` is REDIS_KEY_PREFIX; the layout (hash tags) is described in lua-scripts.ts. */
export const keys = (prefix: string) => {
  const reg = `${prefix}{reg}:`;
  const sess = `${prefix}{sess}:`;
  const ev = `${prefix}{ev}:`;
  return {
    registration: (id: string) => `${reg}rec:${id}`,
    registrationByDevice: (phoneNumber: string, deviceId: string) => `${reg}dev:${phoneNumber}|${deviceId}`,
    registrationsDue: () => `${reg}due`,
    /** Sorted set of a number's registration ids scored by expiresAt (the per-number quota). */
    registrationsByNumber: (phoneNumber: string) => `${reg}num:${phoneNumber}`,
    session: (id: string) => `${sess}rec:${id}`,
    /** `dialog` is `<Call-ID>|<local tag>`. */
    sessionByCallId: (dialog: string) => `${sess}dlg:${dialog}`,
    sessionsActive: () => `${sess}active`,
    /** Sorted set of a number's non-final session ids scored by record expiry (the per-number quota). */
    sessionsByNumber: (phoneNumber: string) => `${sess}num:${phoneNumber}`,
    subscription: (id: string) => `${ev}sub:${id}`,
    subscriptionsByDevice: (phoneNumber: string, deviceId: string) => `${ev}subdev:${phoneNumber}|${deviceId}`,
    subscriptionsByOwner: (owner: string) => `${ev}subown:${owner}`,
    /** Sorted set of a device's ACTIVE subscription ids scored by endsAt (+inf: none): the per-device quota. */
    subscriptionsActiveByDevice: (phoneNumber: string, deviceId: string) => `${ev}subact:${phoneNumber}|${deviceId}`,
    subscriptionsDue: () => `${ev}subdue`,
    queue: (subscriptionId: string) => `${ev}q:${subscriptionId}`,
    queueHead: (subscriptionId: string) => `${ev}qhead:${subscriptionId}`,
    queueSequence: (subscriptionId: string) => `${ev}qseq:${subscriptionId}`,
    queueLease: (subscriptionId: string) => `${ev}qlease:${subscriptionId}`,
    queuesReady: () => `${ev}qready`,
    queueBacklog: () => `${ev}qbacklog`,
  };
};
export type Keys = ReturnType<typeof keys>;

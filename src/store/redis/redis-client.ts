import Redis from 'ioredis';
import { StoreUnavailableError } from '../../common/errors/store-unavailable.error';

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
 * several stores: each command is defined once, whichever store comes first.
 */
export function defineScripts(redis: Redis, scripts: Record<string, { keys: number; lua: string }>): void {
  for (const [name, { keys: numberOfKeys, lua }] of Object.entries(scripts)) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
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

/** Every key the gateway writes, from one place. `prefix` is REDIS_KEY_PREFIX. */
export const keys = (prefix: string) => ({
  registration: (id: string) => `${prefix}reg:${id}`,
  registrationByDevice: (phoneNumber: string, deviceId: string) => `${prefix}regdev:${phoneNumber}|${deviceId}`,
  registrationsDue: () => `${prefix}regdue`,
  session: (id: string) => `${prefix}sess:${id}`,
  /** `dialog` is `<Call-ID>|<local tag>`. */
  sessionByCallId: (dialog: string) => `${prefix}sessdlg:${dialog}`,
});

import { createHash } from 'node:crypto';
import Redis, { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../../common/errors/store-unavailable.error';
import type { RedisTopology } from '../../config/redis-topology';
import type { LuaScript } from './lua-scripts';
import { attachFollower, SentinelFailoverFollower } from './sentinel-failover';

/**
 * DI token for the one ioredis client of the process (quit at shutdown by the StoreModule). With
 * REDIS_CLUSTER_NODES it is an ioredis `Cluster` typed as `Redis` (see `createRedisClient`).
 */
export abstract class RedisClient extends Redis {}

/** With REDIS_WRITE_REPLICAS (1 by default with Sentinels) a write is acknowledged once that many replicas have it (WAIT); fewer within this long is a store error. */
export const REPLICA_ACK_TIMEOUT_MS = 250;
const REPLICA_ACKS = Symbol('replica acks');

const COMMON = {
  // Fail fast instead of queueing while Redis is away: requests get 503, not a hang.
  enableOfflineQueue: false,
  // Off: with the scripts run as EVALSHA (scriptRunner), ioredis' auto-pipelining cost more CPU
  // per command than plain writes, client and Redis together, alone (37–39 µs against 18–24 µs) and
  // in bursts of 10 or 100 commands in one tick (9.6–13 µs against 8.2–10 µs); docs/performance.md.
  enableAutoPipelining: false,
  lazyConnect: true,
} as const;
const PER_CONNECTION = { maxRetriesPerRequest: 1, commandTimeout: 2000, connectTimeout: 2000 } as const;
const retry = (times: number): number => Math.min(times * 200, 2000);

/**
 * The client for the configured topology. Every multi-key command of the stores names keys of one
 * hash tag (lua-scripts.ts), so a Cluster runs them on one node; `Cluster` offers the same
 * commands, pipelines and `defineCommand` as `Redis` (ioredis `Commander`), which is all the stores
 * use: it is handed out typed as `Redis`. With Sentinels the client asks them for the master and
 * follows a failover when its connection drops, the demoted master answers READONLY (which
 * reconnects), or a sentinel announces the promotion (`SentinelFailoverFollower`, given a `logger`;
 * started and stopped by the store's lifecycle). ioredis' own `failoverDetector` is left off: its
 * sentinel subscribers outlive `disconnect()` (ioredis 5.11: a detector made while a reconnect is
 * under way keeps reconnecting), so a closed gateway kept connections and timers alive.
 */
export function createRedisClient(topology: RedisTopology, logger?: Logger): Redis {
  const client = clientFor(topology, logger);
  if (topology.writeReplicas > 0) (client as Redis & { [REPLICA_ACKS]?: number })[REPLICA_ACKS] = topology.writeReplicas;
  return client;
}

function clientFor(topology: RedisTopology, logger: Logger | undefined): Redis {
  switch (topology.mode) {
    case 'single':
      return new Redis(topology.url, { ...COMMON, ...PER_CONNECTION, retryStrategy: retry });
    case 'cluster': {
      const password = topology.password?.reveal();
      const cluster = new Cluster(topology.nodes, {
        ...COMMON,
        // NOTE: off on a Cluster: ioredis (5.x) groups auto-pipelined commands by the node of their
        // first argument when it does not know the command, and a script's first argument is its
        // numkeys, so two scripts on different nodes could share a pipeline that exec refuses ("All
        // keys in the pipeline should belong to the same slots allocation group"): a lost store write
        enableAutoPipelining: false,
        clusterRetryStrategy: retry,
        slotsRefreshTimeout: 2000,
        redisOptions: { ...PER_CONNECTION, ...(password !== undefined && { password }) },
      });
      // NOTE: Cluster is not a subclass of Redis but implements every method the stores call.
      return cluster as unknown as Redis;
    }
    case 'sentinel': {
      const password = topology.password?.reveal();
      const sentinelPassword = topology.sentinelPassword?.reveal();
      const client = new Redis({
        ...COMMON,
        ...PER_CONNECTION,
        retryStrategy: retry,
        sentinels: topology.sentinels,
        name: topology.name,
        failoverDetector: false,
        sentinelRetryStrategy: retry,
        reconnectOnError: (err) => err.message.startsWith('READONLY'),
        ...(password !== undefined && { password }),
        ...(sentinelPassword !== undefined && { sentinelPassword }),
      });
      if (logger) attachFollower(client, new SentinelFailoverFollower({ sentinels: topology.sentinels, name: topology.name, sentinelPassword }, logger));
      return client;
    }
  }
}

/** Runs one of the gateway's Lua scripts with its KEYS and ARGV; resolves the script's reply. */
export type RunScript = <T>(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]) => Promise<T>;

const shas = new WeakMap<LuaScript, string>();
const shaOf = (script: LuaScript): string => {
  let sha = shas.get(script);
  if (!sha) shas.set(script, (sha = createHash('sha1').update(script.lua).digest('hex')));
  return sha;
};

/**
 * Runs scripts as plain EVALSHA commands: nothing is defined on the client, so ioredis has no
 * script commands to copy onto each (auto-)pipeline it builds. A server that does not know the
 * script yet (first use, a restart, a failover, another Cluster node) answers NOSCRIPT, and the
 * script is sent once with EVAL, which also caches it there.
 *
 * With REDIS_WRITE_REPLICAS (1 by default with Sentinels): replication is asynchronous, so a write
 * the master acknowledged could be missing from the replica promoted by a failover. Each script
 * (each may write) is pipelined with `WAIT copies` on the same connection (on a Cluster, the node
 * of the script's keys: WAIT names no key): its reply comes once that many replicas hold the write,
 * and with fewer it fails like an unreachable store. A master that a failover just replaced still
 * accepts writes, and loses them when it rejoins as a replica: the caller sees the store as
 * unavailable (503), the outcome is unknown to it, as with every store error.
 */
export function scriptRunner(redis: Redis): RunScript {
  const acks = (redis as Redis & { [REPLICA_ACKS]?: number })[REPLICA_ACKS];
  const isNoScript = (err: unknown): boolean => err instanceof Error && err.message.startsWith('NOSCRIPT');
  const evalScript = async (script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> => {
    try {
      return await redis.evalsha(shaOf(script), keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return redis.eval(script.lua, keys.length, ...keys, ...args);
    }
  };
  if (!acks) return async <T>(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<T> => (await evalScript(script, keys, args)) as T;
  const evalAcked = async (copies: number, script: LuaScript, keys: readonly string[], args: readonly (string | number)[], sha: boolean): Promise<unknown> => {
    const pipeline = redis.pipeline();
    if (sha) pipeline.evalsha(shaOf(script), keys.length, ...keys, ...args);
    else pipeline.eval(script.lua, keys.length, ...keys, ...args);
    const [scripted, waited] = (await pipeline.wait(copies, REPLICA_ACK_TIMEOUT_MS).exec()) ?? [];
    const [err, reply] = scripted ?? [new Error('no reply to the script')];
    if (err) throw err;
    const [waitErr, got] = waited ?? [new Error('no reply to WAIT')];
    if (waitErr) throw waitErr;
    if (Number(got) < copies) throw new Error(`${Number(got)} of ${copies} replicas acknowledged the write within ${REPLICA_ACK_TIMEOUT_MS} ms`);
    return reply;
  };
  return async <T>(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<T> => {
    try {
      return (await evalAcked(acks, script, keys, args, true)) as T;
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return (await evalAcked(acks, script, keys, args, false)) as T;
    }
  };
}

/**
 * The scripts as methods taking their keys then their ARGV in one list, as ioredis' defined
 * commands did (a script with `keysPerItem` takes `numkeys` first), run by `scriptRunner`.
 */
export function bindScripts(redis: Redis, scripts: Record<string, LuaScript>): Record<string, (...args: (string | number)[]) => Promise<unknown>> {
  const run = scriptRunner(redis);
  const out: Record<string, (...args: (string | number)[]) => Promise<unknown>> = {};
  for (const [name, script] of Object.entries(scripts)) {
    out[name] = (...args) => {
      const [numkeys, rest] = script.keysPerItem ? [Number(args[0]), args.slice(1)] : [script.keys.length, args];
      return run(script, rest.slice(0, numkeys).map(String), rest.slice(numkeys));
    };
  }
  return out;
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
  const ev = `${prefix}{ev}:`;
  // sessions share the tag of the subscriptions and queues: a transition and its event fan-out are one script (lua-scripts.ts)
  const sess = `${ev}sess`;
  return {
    registration: (id: string) => `${reg}rec:${id}`,
    registrationByDevice: (phoneNumber: string, deviceId: string) => `${reg}dev:${phoneNumber}|${deviceId}`,
    registrationsDue: () => `${reg}due`,
    /** Sorted set of a number's registration ids scored by expiresAt (the per-number quota). */
    registrationsByNumber: (phoneNumber: string) => `${reg}num:${phoneNumber}`,
    session: (id: string) => `${sess}:${id}`,
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

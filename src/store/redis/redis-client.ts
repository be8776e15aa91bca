import Redis, { Cluster } from 'ioredis';
import { StoreUnavailableError } from '../../common/errors/store-unavailable.error';
import type { RedisTopology } from '../../config/redis-topology';
import type { LuaScript } from './lua-scripts';

/**
 * DI token for the one ioredis client of the process (quit at shutdown by the StoreModule). With
 * REDIS_CLUSTER_NODES it is an ioredis `Cluster` typed as `Redis` (see `createRedisClient`).
 */
export abstract class RedisClient extends Redis {}

/** Sentinel mode: a write is acknowledged once one replica has it (WAIT); none within this long is a store error. */
export const REPLICA_ACK_TIMEOUT_MS = 250;
const REPLICA_ACKS = Symbol('replica acks');

const COMMON = {
  // Fail fast instead of queueing while Redis is away: requests get 503, not a hang.
  enableOfflineQueue: false,
  // Commands issued in the same tick (several calls' transitions, an event fan-out) go out in
  // one write: fewer syscalls per call under load.
  enableAutoPipelining: true,
  lazyConnect: true,
} as const;
const PER_CONNECTION = { maxRetriesPerRequest: 1, commandTimeout: 2000, connectTimeout: 2000 } as const;
const retry = (times: number): number => Math.min(times * 200, 2000);

/**
 * The client for the configured topology. Every multi-key command of the stores names keys of one
 * hash tag (lua-scripts.ts), so a Cluster runs them on one node; `Cluster` offers the same
 * commands, pipelines and `defineCommand` as `Redis` (ioredis `Commander`), which is all the stores
 * use: it is handed out typed as `Redis`. With Sentinels the client asks them for the master and
 * follows a failover when its connection drops or the demoted master answers READONLY (which
 * reconnects). ioredis' `failoverDetector` (subscribing to +switch-master) is left off: its sentinel
 * subscribers outlive `disconnect()` (ioredis 5.11: a detector made while a reconnect is under way
 * keeps reconnecting), so a closed gateway kept connections and timers alive.
 */
export function createRedisClient(topology: RedisTopology): Redis {
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
      (client as Redis & { [REPLICA_ACKS]?: number })[REPLICA_ACKS] = 1;
      return client;
    }
  }
}

/**
 * Registers Lua scripts as ioredis commands (EVALSHA, loaded on first use) on a client shared by
 * several stores: each command is defined once, whichever store comes first. A script with
 * `keysPerItem` takes a variable number of keys: its caller passes `numkeys` first.
 */
export function defineScripts(redis: Redis, scripts: Record<string, LuaScript>): void {
  const acks = (redis as Redis & { [REPLICA_ACKS]?: number })[REPLICA_ACKS];
  for (const [name, script] of Object.entries(scripts)) {
    if (name in redis) continue;
    const definition = script.keysPerItem ? { lua: script.lua } : { numberOfKeys: script.keys.length, lua: script.lua };
    if (acks) awaitReplicas(redis, name, definition, acks);
    else redis.defineCommand(name, definition);
  }
}

/**
 * Sentinel mode: replication is asynchronous, so a write the master acknowledged could be missing
 * from the replica promoted by a failover. Each script (each may write) is followed by
 * `WAIT acks` on the same connection: its reply comes once a replica holds the write, and without
 * one it fails like an unreachable store. The script
 * itself is defined under another name: ioredis copies defined commands onto its (auto-)pipelines,
 * which must run the script, not this wrapper.
 */
function awaitReplicas(redis: Redis, name: string, definition: { lua: string; numberOfKeys?: number }, acks: number): void {
  const raw = `${name}NoReplicaAck`;
  redis.defineCommand(raw, definition);
  const target = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  target[name] = async (...args: unknown[]): Promise<unknown> => {
    const reply = await target[raw]?.(...args);
    // Without a replica's copy the write is not acknowledged: a master that a failover just replaced
    // still accepts writes, and loses them when it rejoins as a replica. The caller sees the store
    // as unavailable (503): the outcome is unknown to it, as with any store error.
    const copies = await redis.wait(acks, REPLICA_ACK_TIMEOUT_MS);
    if (copies < acks) throw new Error(`no replica acknowledged the write within ${REPLICA_ACK_TIMEOUT_MS} ms`);
    return reply;
  };
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

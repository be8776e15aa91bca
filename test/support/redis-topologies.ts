/**
 * Redis Cluster and Redis Sentinel labs on loopback, for tests of the store under the
 * topologies operators run (issue #15). Processes are ManagedProcesses (stopped by PID, reaped if
 * the test process dies); every port, the cluster bus ports included, is a free one.
 *
 *   const cluster = await startRedisCluster();      // 3 masters, all 16384 slots assigned
 *   ... REDIS_CLUSTER_NODES: cluster.nodesEnv ...
 *   const sentinel = await startRedisSentinel();    // 1 master, 1 replica, 3 sentinels (quorum 2)
 *   ... REDIS_SENTINELS: sentinel.sentinelsEnv, REDIS_SENTINEL_NAME: sentinel.name ...
 *   await sentinel.failover();                       // SENTINEL FAILOVER, waits for the new master
 *   const lab2 = await startRedisSentinel({ replicas: 2 });
 *   const { from, to } = await lab2.killMaster();     // SIGKILL of the master's PID, waits for the promotion
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePorts } from './ports';
import { makeLabDir, ManagedProcess, tailFile, waitUntil } from './proc';

const REDIS_BIN = process.env.LAB_REDIS_BIN ?? 'redis-server';
const REDIS_CLI_BIN = process.env.LAB_REDIS_CLI_BIN ?? 'redis-cli';
const HOST = '127.0.0.1';

/** One short-lived connection: `fn` gets a client that fails fast instead of retrying. */
async function withClient<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

const call = (port: number, ...args: (string | number)[]): Promise<unknown> => withClient(port, (r) => r.call(String(args[0]), ...args.slice(1).map(String)));

function redisServer(name: string, dir: string, args: string[]): Promise<ManagedProcess> {
  return ManagedProcess.start({ name, command: REDIS_BIN, args, cwd: dir, logFile: join(dir, `${name}.log`) });
}

const base = (port: number, dir: string): string[] => ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];

async function stopAll(procs: ManagedProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => p.stop()));
}

export interface RedisClusterLab {
  /** The masters' ports as created. */
  readonly ports: number[];
  /** `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` (REDIS_CLUSTER_NODES): the masters as created. */
  readonly nodesEnv: string;
  readonly dir: string;
  /**
   * SIGKILL of the master that serves `key`'s slot, then waits until a surviving node names
   * another node, answering as a master, for that slot (its replica, promoted by the cluster).
   */
  killMasterOf(key: string, timeoutMs?: number): Promise<{ from: number; to: number; killedAt: number; promotedAt: number }>;
  /** How many replicas the master `port` reports as connected and online. */
  connectedReplicas(port: number): Promise<number>;
  /** The last `lines` lines of every node's log, for a failure message. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** How many replicas the master `port` reports as connected and online. */
async function onlineReplicas(port: number): Promise<number> {
  const info = String(await call(port, 'INFO', 'replication'));
  return [...info.matchAll(/^slave\d+:.*state=online/gm)].length;
}

/** The master serving `slot` in `CLUSTER NODES` as node `via` sees it (0: none known). */
async function clusterMasterOf(via: number, slot: number): Promise<number> {
  const text = String(await call(via, 'CLUSTER', 'NODES'));
  for (const line of text.split('\n')) {
    const [, address = '', flags = '', , , , , , ...slots] = line.trim().split(' ');
    if (!flags.split(',').includes('master') || flags.includes('fail')) continue;
    const serves = slots.some((r) => {
      const [lo, hi = lo] = r.split('-').map(Number);
      return lo !== undefined && hi !== undefined && slot >= lo && slot <= hi;
    });
    if (serves) return Number(address.split('@')[0]?.split(':').pop());
  }
  return 0;
}

/**
 * Three cluster-enabled masters (bus ports chosen too), each with `replicas` replicas (default 0),
 * joined by `redis-cli --cluster create`. Waits for cluster_state:ok on every node and, with
 * replicas, for every replica's link to its master. cluster-node-timeout 2 s: a dead master's
 * replica is promoted within a few seconds.
 */
export async function startRedisCluster(opts: { masters?: number; replicas?: number; startTimeoutMs?: number } = {}): Promise<RedisClusterLab> {
  const masters = opts.masters ?? 3;
  const nodes = masters * (1 + (opts.replicas ?? 0));
  const timeout = opts.startTimeoutMs ?? 20_000;
  const dir = makeLabDir('redis-cluster');
  const ports = await freePorts(nodes * 2, 'tcp');
  const procs: ManagedProcess[] = [];
  const byPort = new Map<number, ManagedProcess>();
  try {
    for (let i = 0; i < nodes; i++) {
      const port = ports[i] ?? 0;
      const nodeDir = join(dir, `node-${port}`);
      const args = [
        ...base(port, nodeDir),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(nodeDir, 'nodes.conf'),
        '--cluster-port',
        String(ports[nodes + i]),
        '--cluster-node-timeout',
        '2000',
      ];
      mkdirSync(nodeDir, { recursive: true });
      const p = await redisServer(`redis-cluster:${port}`, nodeDir, args);
      procs.push(p);
      byPort.set(port, p);
      await waitUntil('PING', p, async () => (await call(port, 'PING')) === 'PONG', timeout);
    }
    const addresses = ports.slice(0, nodes).map((p) => `${HOST}:${p}`);
    await new Promise<void>((resolve, reject) =>
      execFile(REDIS_CLI_BIN, ['--cluster', 'create', ...addresses, '--cluster-replicas', String(opts.replicas ?? 0), '--cluster-yes'], { timeout }, (err, stdout, stderr) =>
        err ? reject(new Error(`redis-cli --cluster create: ${err.message}\n${stdout}${stderr}`)) : resolve(),
      ),
    );
    for (const [i, p] of procs.entries()) {
      const port = ports[i] ?? 0;
      await waitUntil('cluster_state:ok', p, async () => String(await call(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'), timeout);
      const role = String(await call(port, 'ROLE'));
      if (role.startsWith('slave')) await waitUntil('replication link up', p, async () => String(await call(port, 'INFO', 'replication')).includes('master_link_status:up'), timeout);
    }
    const masterPorts: number[] = [];
    for (const port of ports.slice(0, nodes)) if (String(await call(port, 'ROLE')).startsWith('master')) masterPorts.push(port);
    const alive = (): number[] => ports.slice(0, nodes).filter((p) => byPort.get(p)?.running);
    return {
      ports: masterPorts,
      nodesEnv: masterPorts.map((p) => `${HOST}:${p}`).join(','),
      dir,
      async killMasterOf(key, timeoutMs = 30_000) {
        const [via = 0] = alive();
        const slot = Number(await call(via, 'CLUSTER', 'KEYSLOT', key));
        const from = await clusterMasterOf(via, slot);
        const victim = byPort.get(from);
        if (!victim?.running) throw new Error(`killMasterOf: no running node serves slot ${slot} (${from})`);
        const killedAt = Date.now();
        await victim.kill();
        let to = 0;
        await waitUntil(
          `a replica promoted for slot ${slot} after the SIGKILL of ${from}`,
          byPort.get(alive()[0] ?? 0) ?? victim,
          async () => {
            const seen = await clusterMasterOf(alive()[0] ?? 0, slot);
            if (seen === 0 || seen === from || !String(await call(seen, 'ROLE')).startsWith('master')) return false;
            to = seen;
            return true;
          },
          timeoutMs,
          100,
        );
        return { from, to, killedAt, promotedAt: Date.now() };
      },
      connectedReplicas: onlineReplicas,
      logTail(lines = 15) {
        return procs.map((p) => `--- ${p.spec.name}\n${tailFile(p.spec.logFile, lines)}`).join('\n');
      },
      stop: () => stopAll(procs),
    };
  } catch (err) {
    await stopAll(procs);
    throw err;
  }
}

export interface RedisSentinelLab {
  /** The master name the sentinels monitor (REDIS_SENTINEL_NAME). */
  readonly name: string;
  /** `127.0.0.1:s1,…` (REDIS_SENTINELS). */
  readonly sentinelsEnv: string;
  readonly sentinelPorts: number[];
  /** Data ports: [first master, replicas…]. */
  readonly dataPorts: number[];
  /** The port of the current master, as the sentinels see it. */
  masterPort(): Promise<number>;
  /** `SENTINEL FAILOVER` and wait until every sentinel names the other server as master and it answers as one. */
  failover(timeoutMs?: number): Promise<{ from: number; to: number }>;
  /**
   * SIGKILL of the current master's process (by PID; no SENTINEL FAILOVER), then waits until every
   * sentinel names one of the replicas as master and it answers as one. `killedAt` is when the
   * signal was sent, `promotedAt` when the new master was first seen by this poll.
   */
  killMaster(timeoutMs?: number): Promise<{ from: number; to: number; killedAt: number; promotedAt: number }>;
  /**
   * SIGSTOP of the current master's process: its connections stay open, nothing answers (a paused
   * VM, a partition without resets). Then waits for the promotion as `killMaster`; `thaw()` sends SIGCONT.
   */
  freezeMaster(timeoutMs?: number): Promise<{ from: number; to: number; frozenAt: number; promotedAt: number; thaw: () => void }>;
  /** How many replicas the master `port` reports as connected and online. */
  connectedReplicas(port: number): Promise<number>;
  /** The last `lines` lines of every server's and sentinel's log, for a failure message. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/**
 * A master, `replicas` replicas (default 1) and three sentinels (quorum 2, down-after `downAfterMs`,
 * failover-timeout 10 s). Waits until the sentinels know every replica. The default down-after,
 * 3 s, is short for a test and long enough that a loaded machine does not make the sentinels see
 * the master they just promoted as down and fail over a second time (seen with 1 s).
 */
export async function startRedisSentinel(opts: { startTimeoutMs?: number; replicas?: number; downAfterMs?: number } = {}): Promise<RedisSentinelLab> {
  const timeout = opts.startTimeoutMs ?? 20_000;
  const downAfterMs = opts.downAfterMs ?? 3000;
  const replicaCount = opts.replicas ?? 1;
  const name = 'gwmaster';
  const dir = makeLabDir('redis-sentinel');
  const ports = await freePorts(1 + replicaCount + 3, 'tcp');
  const [master = 0] = ports;
  const replicaPorts = ports.slice(1, 1 + replicaCount);
  const [replica = 0] = replicaPorts;
  const sentinelPorts = ports.slice(1 + replicaCount);
  const procs: ManagedProcess[] = [];
  const byPort = new Map<number, ManagedProcess>();
  const sentinelMaster = async (port: number): Promise<number> => {
    const reply = (await call(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string] | null;
    return reply ? Number(reply[1]) : 0;
  };
  try {
    const m = await redisServer(`redis-master:${master}`, dir, [...base(master, dir), '--dbfilename', `dump-${master}.rdb`]);
    procs.push(m);
    byPort.set(master, m);
    await waitUntil('PING', m, async () => (await call(master, 'PING')) === 'PONG', timeout);
    for (const port of replicaPorts) {
      const r = await redisServer(`redis-replica:${port}`, dir, [...base(port, dir), '--dbfilename', `dump-${port}.rdb`, '--replicaof', HOST, String(master)]);
      procs.push(r);
      byPort.set(port, r);
      await waitUntil('replication link up', r, async () => String(await call(port, 'INFO', 'replication')).includes('master_link_status:up'), timeout);
    }
    for (const port of sentinelPorts) {
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${name} ${HOST} ${master} 2`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      const s = await ManagedProcess.start({ name: `redis-sentinel:${port}`, command: REDIS_BIN, args: [conf, '--sentinel'], cwd: dir, logFile: join(dir, `sentinel-${port}.log`) });
      procs.push(s);
      await waitUntil(
        'sentinel knows master and replica',
        s,
        async () => {
          const replicas = (await call(port, 'SENTINEL', 'REPLICAS', name)) as string[][];
          return (await sentinelMaster(port)) === master && replicas.length === replicaCount && replicas.every((r) => !r.join(' ').includes('_down'));
        },
        timeout,
      );
    }
    const first = procs[1 + replicaCount] ?? m;
    const waitForMaster = async (what: string, ok: (port: number) => boolean, timeoutMs: number): Promise<number> => {
      let found = 0;
      await waitUntil(
        what,
        first,
        async () => {
          const seen = new Set<number>();
          for (const p of sentinelPorts) seen.add(await sentinelMaster(p));
          const [only = 0] = [...seen];
          if (seen.size !== 1 || !ok(only)) return false;
          if (!String(await call(only, 'ROLE')).startsWith('master')) return false;
          found = only;
          return true;
        },
        timeoutMs,
        100,
      );
      return found;
    };
    return {
      name,
      sentinelsEnv: sentinelPorts.map((p) => `${HOST}:${p}`).join(','),
      sentinelPorts,
      dataPorts: [master, ...replicaPorts],
      masterPort: () => sentinelMaster(sentinelPorts[0] ?? 0),
      async failover(timeoutMs = 20_000) {
        const from = await sentinelMaster(sentinelPorts[0] ?? 0);
        const to = from === master ? replica : master;
        await call(sentinelPorts[0] ?? 0, 'SENTINEL', 'FAILOVER', name);
        await waitUntil(
          `failover ${from} → ${to}`,
          first,
          async () => {
            for (const p of sentinelPorts) if ((await sentinelMaster(p)) !== to) return false;
            const role = String(await call(to, 'ROLE'));
            return role.startsWith('master');
          },
          timeoutMs,
          100,
        );
        return { from, to };
      },
      async killMaster(timeoutMs = 30_000) {
        const from = await sentinelMaster(sentinelPorts[0] ?? 0);
        const victim = byPort.get(from);
        if (!victim?.running) throw new Error(`killMaster: no running server on the master port ${from}`);
        const killedAt = Date.now();
        await victim.kill();
        const to = await waitForMaster(`a replica promoted after the SIGKILL of ${from}`, (p) => p !== from, timeoutMs);
        return { from, to, killedAt, promotedAt: Date.now() };
      },
      async freezeMaster(timeoutMs = 30_000) {
        const from = await sentinelMaster(sentinelPorts[0] ?? 0);
        const victim = byPort.get(from);
        if (!victim?.running) throw new Error(`freezeMaster: no running server on the master port ${from}`);
        const frozenAt = Date.now();
        victim.signalGroup('SIGSTOP');
        const thaw = (): void => void victim.signalGroup('SIGCONT');
        try {
          const to = await waitForMaster(`a replica promoted while ${from} is frozen`, (p) => p !== from, timeoutMs);
          return { from, to, frozenAt, promotedAt: Date.now(), thaw };
        } catch (err) {
          thaw();
          throw err;
        }
      },
      connectedReplicas: onlineReplicas,
      logTail(lines = 15) {
        return readdirSync(dir)
          .filter((f) => f.endsWith('.log'))
          .map((f) => `--- ${f}\n${tailFile(join(dir, f), lines)}`)
          .join('\n');
      },
      stop: () => {
        // a frozen server would not act on SIGTERM until continued
        for (const proc of procs) proc.signalGroup('SIGCONT');
        return stopAll(procs);
      },
    };
  } catch (err) {
    await stopAll(procs);
    throw err;
  }
}

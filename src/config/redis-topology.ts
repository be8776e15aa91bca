import { isIP } from 'node:net';
import { Secret } from './secret';

export interface RedisNode {
  host: string;
  port: number;
}

/**
 * How the gateway reaches Redis: one server (`REDIS_URL`), a Redis Cluster (`REDIS_CLUSTER_NODES`,
 * any subset of the nodes: the client discovers the rest) or a master watched by Sentinels
 * (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`: the client asks them for the current master and
 * follows a failover). `where` names the variable and its value (no password) for messages.
 */
export type RedisTopology = (
  | { mode: 'single'; url: string; where: string }
  | { mode: 'cluster'; nodes: RedisNode[]; password: Secret | undefined; where: string }
  | { mode: 'sentinel'; sentinels: RedisNode[]; name: string; password: Secret | undefined; sentinelPassword: Secret | undefined; where: string }
) & {
  /**
   * Replica copies every write waits for (`WAIT`) before it is acknowledged (REDIS_WRITE_REPLICAS;
   * default 1 with Sentinels, 0 otherwise): a write answered 2xx then survives the promotion of a
   * replica that had it.
   */
  writeReplicas: number;
};

export interface RedisTopologyEnv {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_WRITE_REPLICAS?: string | undefined;
}

/** A Redis URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL';
  }
}

/** `host:port` or `[v6]:port` → node; undefined when malformed. */
function parseNode(text: string): RedisNode | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]{1,253})):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  return port >= 1 && port <= 65535 ? { host, port } : undefined;
}

function parseNodes(variable: string, value: string, problems: string[]): RedisNode[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const nodes = items.map(parseNode);
  const bad = items.filter((_, i) => nodes[i] === undefined);
  if (items.length === 0 || bad.length > 0) problems.push(`${variable}: expected host:port[,host:port…] (IPv6 as [addr]:port)${bad.length > 0 ? `, not ${bad.join(', ')}` : ''}`);
  return nodes.filter((n): n is RedisNode => n !== undefined);
}

const show = (nodes: RedisNode[]): string => nodes.map((n) => (isIP(n.host) === 6 ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',');

/** The topology the environment asks for (undefined: no Redis, in-memory store); problems are appended. */
export function redisTopology(e: RedisTopologyEnv, problems: string[]): RedisTopology | undefined {
  const chosen = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((v) => e[v] !== undefined);
  if (chosen.length > 1) {
    problems.push(`${chosen.join(', ')}: set only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS`);
    return undefined;
  }
  if (e.REDIS_SENTINEL_NAME !== undefined && e.REDIS_SENTINELS === undefined) problems.push('REDIS_SENTINEL_NAME: only with REDIS_SENTINELS');
  if (e.REDIS_SENTINEL_PASSWORD !== undefined && e.REDIS_SENTINELS === undefined) problems.push('REDIS_SENTINEL_PASSWORD: only with REDIS_SENTINELS');
  if (e.REDIS_PASSWORD !== undefined && e.REDIS_URL !== undefined) problems.push('REDIS_PASSWORD: with REDIS_URL the password goes in the URL');
  const password = e.REDIS_PASSWORD !== undefined ? new Secret(e.REDIS_PASSWORD) : undefined;
  // its format (0-5) is checked with the other variables' (env.schema.ts)
  const writeReplicas = (fallback: number): number => (e.REDIS_WRITE_REPLICAS !== undefined ? Number(e.REDIS_WRITE_REPLICAS) : fallback);
  if (e.REDIS_URL !== undefined) return { mode: 'single', url: e.REDIS_URL, where: `REDIS_URL=${redactUrl(e.REDIS_URL)}`, writeReplicas: writeReplicas(0) };
  if (e.REDIS_CLUSTER_NODES !== undefined) {
    const nodes = parseNodes('REDIS_CLUSTER_NODES', e.REDIS_CLUSTER_NODES, problems);
    return { mode: 'cluster', nodes, password, where: `REDIS_CLUSTER_NODES=${show(nodes)}`, writeReplicas: writeReplicas(0) };
  }
  if (e.REDIS_SENTINELS !== undefined) {
    const sentinels = parseNodes('REDIS_SENTINELS', e.REDIS_SENTINELS, problems);
    const name = e.REDIS_SENTINEL_NAME ?? '';
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS, the master name the Sentinels monitor (1-64 characters of [A-Za-z0-9._-])');
    const sentinelPassword = e.REDIS_SENTINEL_PASSWORD !== undefined ? new Secret(e.REDIS_SENTINEL_PASSWORD) : undefined;
    return { mode: 'sentinel', sentinels, name, password, sentinelPassword, where: `REDIS_SENTINELS=${show(sentinels)} (REDIS_SENTINEL_NAME=${name})`, writeReplicas: writeReplicas(1) };
  }
  if (e.REDIS_WRITE_REPLICAS !== undefined) problems.push('REDIS_WRITE_REPLICAS: only with REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS');
  return undefined;
}

import { loadConfig } from './app-config';

const storeOf = (env: Record<string, string>) => loadConfig(env).store;
const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
};

describe('Redis topology (REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS)', () => {
  it('reads a Cluster from REDIS_CLUSTER_NODES, IPv6 included, the password kept secret', () => {
    const store = storeOf({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-2.lab:7001,[::1]:7002', REDIS_PASSWORD: 'hunter2' });
    expect(store).toMatchObject({ kind: 'redis', keyPrefix: 'gw:', topology: { mode: 'cluster', where: 'REDIS_CLUSTER_NODES=10.0.0.1:7000,redis-2.lab:7001,[::1]:7002' } });
    if (store.kind !== 'redis' || store.topology.mode !== 'cluster') throw new Error('not a cluster');
    expect(store.topology.nodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-2.lab', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(JSON.stringify(store)).not.toContain('hunter2');
    expect(store.topology.password?.reveal()).toBe('hunter2');
  });

  it('reads Sentinels and the master name', () => {
    const store = storeOf({ REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.1:26380', REDIS_SENTINEL_NAME: 'gw-master', REDIS_SENTINEL_PASSWORD: 's3nt' });
    expect(store).toMatchObject({
      topology: {
        mode: 'sentinel',
        name: 'gw-master',
        sentinels: [
          { host: '127.0.0.1', port: 26379 },
          { host: '127.0.0.1', port: 26380 },
        ],
        where: 'REDIS_SENTINELS=127.0.0.1:26379,127.0.0.1:26380 (REDIS_SENTINEL_NAME=gw-master)',
      },
    });
    expect(JSON.stringify(store)).not.toContain('s3nt');
  });

  it.each([
    [{ REDIS_URL: 'redis://x:6379', REDIS_CLUSTER_NODES: 'a:1' }, 'set only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS'],
    [{ REDIS_CLUSTER_NODES: 'a:1,b' }, 'REDIS_CLUSTER_NODES: expected host:port'],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, 'not a:70000'],
    [{ REDIS_CLUSTER_NODES: '[not-v6]:1' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_SENTINELS: 'a:26379' }, 'REDIS_SENTINEL_NAME: required with REDIS_SENTINELS'],
    [{ REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINEL_NAME: only with REDIS_SENTINELS'],
    [{ REDIS_URL: 'redis://x:6379', REDIS_PASSWORD: 'p' }, 'REDIS_PASSWORD: with REDIS_URL the password goes in the URL'],
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_WRITE_REPLICAS: '6' }, 'REDIS_WRITE_REPLICAS must be an integer from 0 to 5'],
    [{ REDIS_WRITE_REPLICAS: '1' }, 'REDIS_WRITE_REPLICAS: only with REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS'],
  ])('refuses %j at boot', (env, problem) => {
    expect(problemsOf(env)).toContain(problem);
  });

  it.each<[Record<string, string>, number]>([
    [{ REDIS_URL: 'redis://x:6379' }, 0],
    [{ REDIS_CLUSTER_NODES: 'a:1' }, 0],
    [{ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm' }, 1],
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_WRITE_REPLICAS: '1' }, 1],
    [{ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm', REDIS_WRITE_REPLICAS: '0' }, 0],
    [{ REDIS_URL: 'redis://x:6379', REDIS_WRITE_REPLICAS: '2' }, 2],
  ])('with %j every write waits for %d replica copies', (env, n) => {
    const store = storeOf(env);
    expect(store.kind === 'redis' && store.topology.writeReplicas).toBe(n);
  });

  it('stays in memory with none of them', () => {
    expect(storeOf({})).toEqual({ kind: 'memory' });
  });
});

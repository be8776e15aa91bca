/**
 * The gateway on a Redis Cluster with replicas (3 masters, 2 replicas each, REDIS_WRITE_REPLICAS=1)
 * when the master serving the sessions and event queues (the `{ev}` slot) is killed during calls.
 * The cluster promotes one of its replicas (cluster-node-timeout 2 s); the gateway's Cluster client
 * follows the new slot owner, the calls set up before stay controllable, every write it answered
 * 2xx is on the new master (each waited for a replica's copy), the events queued before the kill
 * are delivered, and requests in between get `503 UNAVAILABLE` in bounded time.
 */
import { createTestIdp, TestIdp } from '../support/auth';
import { API, eventType, registerApp, RegisteredApp } from '../support/camara-app';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { Lab, startLab } from '../support/lab';
import { RedisClusterLab, startRedisCluster } from '../support/redis-topologies';
import { failoverCalls, FailoverCall, Probe, startProbes } from '../support/store-failover-calls';

const ALICE = '+17085852753';
/** The cluster's share: the failure detection (cluster-node-timeout 2 s) and the replicas' election. */
const PROMOTION_BOUND_MS = 15_000;
/** The gateway's share: once the cluster names the new owner of the slot, its client refreshes its slot table and serves again. */
const RECONNECT_BOUND_MS = 10_000;
/** A request during the outage fails at once or after the 2 s command timeout; the rest is slack for a shared CPU. */
const REQUEST_BOUND_MS = 5_000;

describe('the gateway on a Redis Cluster with replicas when the master of the sessions is killed during calls', () => {
  let lab: Lab;
  let idp: TestIdp;
  let cluster: RedisClusterLab;
  let gw: GatewayUnderTest;
  let app: RegisteredApp;

  beforeAll(async () => {
    lab = await startLab({ redis: false, ringMs: 100 });
    idp = await createTestIdp();
    cluster = await startRedisCluster({ replicas: 2 });
    gw = await startGateway(lab, idp, {
      REDIS_CLUSTER_NODES: cluster.nodesEnv,
      REDIS_WRITE_REPLICAS: '1',
      REDIS_KEY_PREFIX: `t${Date.now().toString(36)}:`,
      QUOTA_SUBSCRIPTIONS_PER_DEVICE: '0',
    });
    app = await registerApp(gw, idp, ALICE, ['session-status', 'session-invitation']);
  }, 90_000);
  afterAll(async () => {
    await gw?.close();
    await app?.close();
    await cluster?.stop();
    await lab?.stop();
  });

  const { get, statusOf, connectedCall, holdAndHangUp } = failoverCalls(
    () => gw,
    () => app,
    () => lab,
  );

  it('promotes a replica, answers 503 in between, keeps every call and acknowledged write, and serves new calls', async () => {
    // the sink refuses for now: the calls' events are still queued in the store when the master dies
    app.sink.status = 503;
    const before: FailoverCall[] = [];
    for (let i = 0; i < 2; i++) before.push(await connectedCall());

    // requests all along, both on the killed master's slot: reads of a call, and writes (new event subscriptions)
    const {
      probes,
      acknowledged,
      firstOk: okSince,
      stop,
    } = startProbes(
      () => get(before[0]?.id ?? ''),
      () =>
        gw.request('POST', API.subscriptions, {
          token: app.token,
          // a type the outgoing calls do not produce: the calls' events are not fanned out to these
          body: { protocol: 'HTTP', sink: app.sink.url, types: [eventType('session-invitation')], config: { subscriptionDetail: { deviceId: app.deviceId } } },
        }),
      (body) => (body as { id: string }).id,
    );
    await eventually(async () => acknowledged.length >= 3, 10_000, 'subscriptions before the kill');

    const { from, to, killedAt, promotedAt } = await cluster.killMasterOf('{ev}');
    expect(to).not.toBe(from);
    const firstOk = (kind: Probe['kind'], status: number) => okSince(kind, status, killedAt);
    const diagnosis = (): string =>
      [
        `promotion of ${to} +${promotedAt - killedAt} ms`,
        `first read 200 +${(firstOk('read', 200)?.startedAt ?? NaN) - killedAt} ms, first write 201 +${(firstOk('write', 201)?.startedAt ?? NaN) - killedAt} ms`,
        cluster.logTail(),
      ].join('\n');
    if (promotedAt - killedAt >= PROMOTION_BOUND_MS) throw new Error(`the cluster promoted no replica within ${PROMOTION_BOUND_MS} ms\n${diagnosis()}`);
    // the other replica follows the promoted one, so writes can be acknowledged
    await eventually(async () => (await cluster.connectedReplicas(to)) >= 1, 20_000, `a replica of ${to}`).catch((err: Error) => {
      throw new Error(`${err.message}\n${diagnosis()}`);
    });
    const replicaOnlineAt = Date.now();
    await eventually(async () => firstOk('read', 200) && firstOk('write', 201), 30_000, 'reads and writes after the failover').catch((err: Error) => {
      throw new Error(`${err.message}\n${diagnosis()}`);
    });
    await stop();
    process.stdout.write(`Cluster master SIGKILL: ${diagnosis().split('\n').slice(0, 2).join('; ')}\n`);
    const readsBack = (firstOk('read', 200)?.startedAt ?? Infinity) - promotedAt;
    const writesBack = (firstOk('write', 201)?.startedAt ?? Infinity) - Math.max(promotedAt, replicaOnlineAt);
    if (readsBack >= RECONNECT_BOUND_MS || writesBack >= RECONNECT_BOUND_MS)
      throw new Error(`requests served again ${readsBack} ms (reads) and ${writesBack} ms (writes) after the store was back\n${diagnosis()}`);

    const refused = probes.filter((p) => p.status !== 200 && p.status !== 201);
    // positive control: the gateway did see the kill
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.filter((p) => p.status !== 503 || p.code !== 'UNAVAILABLE')).toEqual([]);
    expect(Math.max(...probes.map((p) => p.ms))).toBeLessThan(REQUEST_BOUND_MS);

    // no acknowledged write is lost: every subscription answered 201 is readable from the new master
    for (const id of acknowledged) expect((await gw.request('GET', `${API.subscriptions}/${id}`, { token: app.token })).status).toBe(200);
    for (const call of before) expect(await statusOf(call.id)).toBe('Connected');
    // the events queued before the kill are delivered (at least once) from the new master
    app.sink.status = 204;
    for (const call of before) await app.sink.waitFor((e) => e.body.data.mediaSessionId === call.id && e.body.data.status === 'Connected', 60_000, `Connected of ${call.id}`);

    for (const call of before) await holdAndHangUp(call);
    const after = await connectedCall();
    await holdAndHangUp(after);
  }, 180_000);
});

import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { RedisClient } from '../../src/store/redis/redis-client';
import { createTestIdp, TestIdp } from '../support/auth';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { Lab, startLab } from '../support/lab';
import { RedisClusterLab, RedisSentinelLab, startRedisCluster, startRedisSentinel } from '../support/redis-topologies';
import { SipExchange } from '../support/sip-trace';

const ALICE = '+17085852753';
const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const SCOPES = [
  'webrtc-registration:sessions:create',
  'webrtc-registration:sessions:read',
  'webrtc-call-handling:sessions:create',
  'webrtc-call-handling:sessions:read',
  'webrtc-call-handling:sessions:delete',
].join(' ');
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

type Session = { mediaSessionId: string; status: string };

/** A registered subscriber on `gw`, with the calls it makes. */
async function subscriber(gw: GatewayUnderTest, idp: TestIdp) {
  const token = await idp.token({ phone_number: ALICE, scope: SCOPES });
  const reg = await gw.request('POST', REG, { token, body: { deviceId: randomUUID() } });
  expect(reg.status).toBe(201);
  const registrationid = (reg.body as { registrationId: string }).registrationId;
  const call = (to: string) => gw.request('POST', CALLS, { token, headers: { registrationid }, body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${to}`, offer: { sdp: OFFER } } });
  const until = (id: string, status: string) =>
    eventually(
      async () => {
        const s = (await gw.request('GET', `${CALLS}/${id}`, { token })).body as Session;
        return s.status === status ? s : undefined;
      },
      15_000,
      `status ${status}`,
    );
  return { token, call, until };
}

/** Issue #15 item 3: the gateway on a Redis Cluster, and on Sentinel through a failover of the master. */
describe('the gateway on Redis Cluster and Redis Sentinel', () => {
  let lab: Lab;
  let idp: TestIdp;

  beforeAll(async () => {
    lab = await startLab({ redis: false, ringMs: 100 });
    idp = await createTestIdp();
  });
  afterAll(async () => {
    await lab?.stop();
  });

  describe('REDIS_CLUSTER_NODES (3 masters)', () => {
    let cluster: RedisClusterLab;
    let gw: GatewayUnderTest;
    beforeAll(async () => {
      cluster = await startRedisCluster();
      gw = await startGateway(lab, idp, { REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_KEY_PREFIX: `t${Date.now().toString(36)}:` });
    }, 60_000);
    afterAll(async () => {
      await gw?.close();
      await cluster?.stop();
    });

    it('registers, calls a number that answers and hangs up, with all state in the Cluster', async () => {
      expect(gw.app.get(RedisClient)).toBeInstanceOf(Cluster);
      const alice = await subscriber(gw, idp);
      const res = await alice.call(lab.numbers.answer);
      expect(res.status).toBe(201);
      const id = (res.body as Session).mediaSessionId;
      await alice.until(id, 'Connected');
      const hangUp = await SipExchange.start(lab.uas.answer);
      expect((await gw.request('DELETE', `${CALLS}/${id}`, { token: alice.token })).status).toBe(204);
      const bye = await hangUp.received('BYE');
      expect((await hangUp.finalResponseTo(bye)).status).toBe(200);
      expect((await gw.request('GET', `${CALLS}/${id}`, { token: alice.token })).status).toBe(404);
    });
  });

  describe('REDIS_SENTINELS (master, replica, 3 sentinels)', () => {
    let sentinel: RedisSentinelLab;
    let gw: GatewayUnderTest;
    beforeAll(async () => {
      sentinel = await startRedisSentinel();
      gw = await startGateway(lab, idp, {
        REDIS_SENTINELS: sentinel.sentinelsEnv,
        REDIS_SENTINEL_NAME: sentinel.name,
        REDIS_KEY_PREFIX: `t${Date.now().toString(36)}:`,
        QUOTA_REGISTRATIONS_PER_NUMBER: '0',
      });
    }, 60_000);
    afterAll(async () => {
      await gw?.close();
      await sentinel?.stop();
    });

    it('keeps serving through a failover of the master and loses no registration it acknowledged', async () => {
      const alice = await subscriber(gw, idp);
      // a call established before the failover
      const res = await alice.call(lab.numbers.answer);
      expect(res.status).toBe(201);
      const callId = (res.body as Session).mediaSessionId;
      await alice.until(callId, 'Connected');

      // registrations created one after another during the failover: each 201 must survive it
      const acknowledged: string[] = [];
      const refused: number[] = [];
      let stop = false;
      const activity = (async () => {
        while (!stop) {
          const r = await gw.request('POST', REG, { token: alice.token, body: { deviceId: randomUUID() } });
          if (r.status === 201) acknowledged.push((r.body as { registrationId: string }).registrationId);
          else {
            refused.push(r.status);
            // pacing, not waiting for anything: a refusal comes back at once, give the client's reconnection a turn
            await new Promise((res) => setTimeout(res, 20));
          }
        }
      })();
      await eventually(async () => acknowledged.length >= 3, 10_000, 'registrations before the failover');
      const { from, to } = await sentinel.failover();
      expect(to).not.toBe(from);
      const before = acknowledged.length;
      // with one replica, writes wait until the old master rejoins as the new master's replica (Sentinel reconfigures it within ~10 s)
      await eventually(async () => acknowledged.length >= before + 3, 40_000, 'registrations after the failover');
      stop = true;
      await activity;

      // the only refusals allowed are 503 UNAVAILABLE while the client switched masters
      expect(refused.filter((s) => s !== 503)).toEqual([]);
      expect(await sentinel.masterPort()).toBe(to);
      for (const id of acknowledged) expect((await gw.request('GET', `${REG}/${id}`, { token: alice.token })).status).toBe(200);

      // the call of before the failover is still controllable: DELETE sends its BYE
      const hangUp = await SipExchange.start(lab.uas.answer);
      expect((await gw.request('DELETE', `${CALLS}/${callId}`, { token: alice.token })).status).toBe(204);
      const bye = await hangUp.received('BYE');
      expect((await hangUp.finalResponseTo(bye)).status).toBe(200);
    });
  });
});

/**
 * Store round trips of one full call, counted with Redis MONITOR as the benchmark does (bench/lib/redis-stats.ts):
 * POST /sessions → Ringing → Connected (answered by the lab's SIPp UAS behind Kamailio) → DELETE → Terminated,
 * with one session-status subscription whose webhook sink receives (and acknowledges) every event.
 *
 * What counts: every command the gateway sends to the session and event stores (keys of the `{ev}` tag: the
 * session, its dialog index, the subscriptions and their queues; a MULTI…EXEC block once; commands run inside
 * Lua do not count). What does not: the registration store (the POST's read of the registration, and the
 * registration's own refreshes, which are not per call), the REST request-rate counters (`rl:` keys, the REST
 * layer's), the cluster heartbeat and the pollers of due indexes (background, not per call).
 */
import type { Redis } from 'ioredis';
import { createTestIdp, TestIdp } from '../support/auth';
import { API, registerApp, RegisteredApp, AUDIO_OFFER } from '../support/camara-app';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { Lab, startLab } from '../support/lab';
import { keys } from '../../src/store/redis/redis-client';

const ALICE = '+17085852753';
/** The bound the store keeps for one full call (README, docs/performance.md, bench/run.ts). */
const MAX_STORE_ROUND_TRIPS = 8;

interface Command {
  source: string;
  args: string[];
}

/** Every top-level command of other clients while `fn` runs (MONITOR on its own connection). */
async function monitor<T>(redis: Redis, fn: () => Promise<T>): Promise<{ result: T; commands: Command[] }> {
  const own = /addr=(\S+)/.exec(String(await redis.client('INFO')))?.[1];
  const mon = await redis.monitor();
  const commands: Command[] = [];
  const inMulti = new Set<string>();
  mon.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === own) return;
    if (source === 'lua' || source.endsWith(' lua')) return;
    const cmd = (args[0] ?? '').toLowerCase();
    if (cmd === 'multi') return void inMulti.add(source);
    if (cmd === 'exec' || cmd === 'discard') {
      inMulti.delete(source);
      commands.push({ source, args: [cmd] });
      return;
    }
    if (!inMulti.has(source)) commands.push({ source, args });
  });
  try {
    return { result: await fn(), commands };
  } finally {
    mon.disconnect();
  }
}

describe('store round trips of one full call (Redis MONITOR)', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let alice: RegisteredApp;
  let redis: Redis;
  let prefix: string;

  beforeAll(async () => {
    lab = await startLab({ ringMs: 200 });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp);
    prefix = gw.env.REDIS_KEY_PREFIX ?? '';
    alice = await registerApp(gw, idp, ALICE, ['session-status']);
    redis = lab.redis!.client();
  });
  afterAll(async () => {
    await alice?.close();
    await gw?.close();
    await lab?.stop();
  });

  /**
   * The session and event stores' commands: keys under the `{ev}` tag (sessions, subscriptions, event
   * queues), without the delivery worker's and the subscription expiry's polls of their due indexes.
   */
  const callCommand = (c: Command): boolean => {
    const k = keys(prefix);
    const named = c.args.slice(1).filter((a) => a.startsWith(`${prefix}{ev}`));
    const cmd = (c.args[0] ?? '').toLowerCase();
    if (cmd === 'zrangebyscore' && [k.queuesReady(), k.subscriptionsDue()].includes(c.args[1] ?? '')) return false;
    return named.length > 0;
  };
  const scriptNamed = (c: Command): boolean => (c.args[0] ?? '').toLowerCase().startsWith('eval');

  const queueEmpty = async (): Promise<boolean> => (await redis.get(keys(prefix).queueBacklog())) === '0';

  it(`costs at most ${MAX_STORE_ROUND_TRIPS} session and event store round trips, every event delivered`, async () => {
    // a warm-up call: scripts cached by Redis, the device's subscriptions known to this instance
    expect(await fullCall()).toEqual(['Ringing', 'Connected', 'Terminated']);

    const { result: statuses, commands } = await monitor(redis, fullCall);

    const perCall = commands.filter(callCommand);
    if (process.env.ROUND_TRIPS_DEBUG) process.stdout.write(`per call (${perCall.length}):\n  ${perCall.map((c) => c.args.slice(0, 3).join(' ')).join('\n  ')}\n`);
    // the positive control: the call went through the store (create, transitions with their events, acks)
    expect(statuses).toEqual(['Ringing', 'Connected', 'Terminated']);
    expect(perCall.filter(scriptNamed).length).toBeGreaterThanOrEqual(4);
    expect(perCall.length).toBeLessThanOrEqual(MAX_STORE_ROUND_TRIPS);
    // only the fields that change are written: the app's offer once (create), not with every transition
    expect(perCall.filter((c) => c.args.includes('offer')).map((c) => c.args[0])).toHaveLength(1);
    expect(perCall.filter((c) => c.args.includes('status')).length).toBeGreaterThanOrEqual(4);
    // scripts run by EVALSHA once Redis has them, never re-sent (EVAL) per call
    expect(perCall.filter((c) => c.args[0]?.toLowerCase() === 'eval')).toEqual([]);
  });

  /** One call; resolves the session-status statuses the sink received once every event left the queue. */
  async function fullCall(): Promise<string[]> {
    const post = await gw.request('POST', API.sessions, {
      token: alice.token,
      headers: { registrationid: alice.registrationId },
      body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${lab.numbers.answer}`, offer: { sdp: AUDIO_OFFER } },
    });
    expect(post.status).toBe(201);
    const id = (post.body as { mediaSessionId: string }).mediaSessionId;
    await alice.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Connected', 10_000, 'Connected');
    expect((await gw.request('DELETE', `${API.sessions}/${id}`, { token: alice.token })).status).toBe(204);
    await alice.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Terminated', 10_000, 'Terminated');
    await eventually(async () => (await queueEmpty()) || undefined, 5000, 'every event acknowledged');
    return alice.sink.statuses(id);
  }
});

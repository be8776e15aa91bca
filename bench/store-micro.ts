/**
 * Micro benchmark of the Redis store's own CPU: the store calls of one call, against a real Redis
 * (`test/support/lab.ts` startRedis), without HTTP, SIP or webhooks.
 *
 *   node --require ts-node/register/transpile-only bench/store-micro.ts [--calls 3000] [--concurrency 16] [--rounds 3] [--src <dir>]
 *
 * One call-equivalent, as an outgoing call of `npm run bench` drives the store: create (INITIAL),
 * update (dialog stamped, INVITE sent), updateAndFanOut RINGING, CONNECTED (answer, remote SDP),
 * update (hold: local SDP, dialog CSeq), updateAndFanOut TERMINATED (deleted); each fan-out goes to
 * the device's one subscription with a claim, and each claimed head is acked (`ackAndNext`), as the
 * delivery worker does after a POST. `--concurrency` calls run at once. Prints, per round, µs of
 * this process's CPU (user+system, `process.cpuUsage`) per call-equivalent, the Redis server's
 * (/proc, clock-tick resolution) and Redis commands sent per call-equivalent (counted at the client). `--src <dir>`: load the stores from another copy of
 * `src/` (e.g. an older commit extracted with `git archive`), to compare builds in one sitting. The
 * client is that build's `createRedisClient` (REDIS_URL mode).
 * No assertions.
 */
import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { startRedis } from '../test/support/lab';
import { cpuMs } from './lib/procfs';
import type { MediaSession, SessionStore } from '../src/store/session-store';
import type { EventQueue, FanOutRequest, FanOutResult } from '../src/store/event-queue';
import type { StoredSubscription, SubscriptionStore } from '../src/store/subscription-store';
import type { RedisTopology } from '../src/config/redis-topology';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? String(process.argv[i + 1]) : dflt;
}

const CALLS = Number(arg('calls', '3000'));
const CONCURRENCY = Number(arg('concurrency', '16'));
const ROUNDS = Number(arg('rounds', '3'));
const SRC = resolve(arg('src', resolve(__dirname, '../src')));
const DEVICES = 200;
const OWNER = 'gw-bench';
const LEASE_MS = 30_000;

type StoreCtor<T> = new (redis: Redis, prefix: string) => T;
/* eslint-disable @typescript-eslint/no-require-imports -- the stores of the build under test, chosen at run time (--src) */
const { RedisSessionStore } = require(`${SRC}/store/redis/redis-session.store`) as { RedisSessionStore: StoreCtor<SessionStore> };
const { RedisEventQueue } = require(`${SRC}/store/redis/redis-event-queue`) as { RedisEventQueue: StoreCtor<EventQueue> };
const { RedisSubscriptionStore } = require(`${SRC}/store/redis/redis-subscription.store`) as { RedisSubscriptionStore: StoreCtor<SubscriptionStore> };
const { createRedisClient } = require(`${SRC}/store/redis/redis-client`) as { createRedisClient: (t: RedisTopology) => Redis };
/* eslint-enable @typescript-eslint/no-require-imports */

const SDP = (v: number): string =>
  [
    'v=0',
    `o=- 4611731400430051336 ${v} IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8',
    'c=IN IP4 0.0.0.0',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    '',
  ].join('\r\n');

const phone = (d: number): string => `+1708600${String(d).padStart(4, '0')}`;

function subscription(d: number): StoredSubscription {
  return {
    id: randomUUID(),
    owner: phone(d),
    phoneNumber: phone(d),
    deviceId: `dev-${d}`,
    protocol: 'HTTP',
    sink: 'http://127.0.0.1:9/sink',
    types: ['org.camaraproject.webrtc-events.v0.session-status'],
    startsAt: new Date().toISOString(),
    state: 'ACTIVE',
    version: 0,
  };
}

/** One call's store traffic (see the header). */
async function oneCall(sessions: SessionStore, queue: EventQueue, d: number): Promise<void> {
  const ttl = 3_600_000;
  const now = Date.now();
  let s: MediaSession = {
    mediaSessionId: randomUUID(),
    direction: 'outgoing',
    phoneNumber: phone(d),
    deviceId: `dev-${d}`,
    registrationId: randomUUID(),
    originatorAddress: `tel:${phone(d)}`,
    receiverAddress: 'tel:+17086009999',
    callType: 'REGULAR',
    status: 'Initial',
    offer: SDP(1),
    localSdp: SDP(1),
    sequenceNumber: 0,
    createdAt: now,
    updatedAt: now,
    version: 0,
  };
  if (await sessions.create(s, ttl)) throw new Error('quota');
  s = { ...s, version: 1 };
  const write = async (next: MediaSession): Promise<MediaSession> => {
    const r = await sessions.update(next, s.version, ttl);
    if (!r) throw new Error('conflict');
    return r;
  };
  const transition = async (next: MediaSession): Promise<MediaSession> => {
    const req: FanOutRequest = {
      phoneNumber: next.phoneNumber,
      deviceId: next.deviceId ?? '',
      type: 'org.camaraproject.webrtc-events.v0.session-status',
      time: new Date().toISOString(),
      data: { mediaSessionId: next.mediaSessionId, status: next.status, sequenceNumber: next.sequenceNumber },
      ids: [randomUUID()],
      claim: { owner: OWNER, leaseMs: LEASE_MS },
    };
    const r = await sessions.updateAndFanOut(next, s.version, ttl, req);
    if (!r) throw new Error('conflict');
    await drain(queue, r.fanOut);
    return r.session;
  };
  const dialog = {
    callId: `${randomUUID()}@gw`,
    role: 'uac' as const,
    localTag: randomUUID().slice(0, 8),
    localUri: `sip:${phone(d)}@ims.example.com`,
    remoteUri: 'sip:+17086009999@ims.example.com',
    localSeq: 1,
    remoteTarget: 'sip:+17086009999@ims.example.com',
    routeSet: ['<sip:pcscf.ims.example.com;lr>'],
    localContact: '<sip:gw@127.0.0.1:5060;transport=udp>',
    state: 'early' as const,
  };
  s = await write({ ...s, dialog, owner: OWNER, updatedAt: Date.now() });
  s = await transition({ ...s, status: 'Ringing', sequenceNumber: 1, sipCode: 180, sipReason: 'Ringing', dialog: { ...dialog, remoteTag: 'far1' }, updatedAt: Date.now() });
  s = await transition({
    ...s,
    status: 'Connected',
    sequenceNumber: 2,
    answer: SDP(7),
    remoteSdp: SDP(7),
    sipCode: 200,
    sipReason: 'OK',
    dialog: { ...dialog, remoteTag: 'far1', state: 'confirmed' },
    updatedAt: Date.now(),
  });
  s = await write({ ...s, localSdp: SDP(2), dialog: { ...dialog, remoteTag: 'far1', state: 'confirmed', localSeq: 2 }, updatedAt: Date.now() });
  await transition({
    ...s,
    status: 'Terminated',
    sequenceNumber: 3,
    deleted: true,
    endedAt: Date.now(),
    dialog: { ...dialog, remoteTag: 'far1', state: 'confirmed', localSeq: 3 },
    updatedAt: Date.now(),
  });
}

/** As the delivery worker after each POST: ack the claimed head and take the next one. */
async function drain(queue: EventQueue, fanOut: FanOutResult | undefined): Promise<void> {
  if (fanOut?.kind !== 'enqueued') return;
  for (let c = fanOut.claimed[0]; c;) {
    const r = await queue.ackAndNext(c.subscriptionId, c.head.event.id, OWNER, LEASE_MS);
    c = r.kind === 'next' ? r.next : undefined;
  }
}

async function main(): Promise<void> {
  const redis = await startRedis();
  // the gateway's own client (its options and write batching), of the build under test
  const client = createRedisClient({ mode: 'single', url: redis.url, where: 'REDIS_URL', writeReplicas: 0 });
  await client.connect();
  let commands = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = (...a: Parameters<Redis['sendCommand']>) => {
    commands++;
    return send(...a);
  };
  const prefix = 'bench-store:';
  const sessions = new RedisSessionStore(client, prefix);
  const queue = new RedisEventQueue(client, prefix);
  const subs = new RedisSubscriptionStore(client, prefix);
  for (let d = 0; d < DEVICES; d++) await subs.create(subscription(d));
  console.log(`store-micro: src ${SRC}, ${CALLS} calls × ${ROUNDS} rounds, ${CONCURRENCY} at once, 1 subscription per device`);
  try {
    await run(sessions, queue, Math.min(CALLS, 300)); // warm-up (JIT, scripts loaded)
    for (let round = 1; round <= ROUNDS; round++) {
      const c0 = commands;
      const redis0 = (redis.pid !== undefined ? cpuMs(redis.pid) : null) ?? 0;
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await run(sessions, queue, CALLS);
      const cpu = process.cpuUsage(cpu0);
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const redisUs = ((((redis.pid !== undefined ? cpuMs(redis.pid) : null) ?? 0) - redis0) * 1000) / CALLS;
      console.log(
        `round ${round}: ${((cpu.user + cpu.system) / CALLS).toFixed(1)} µs CPU per call (user ${(cpu.user / CALLS).toFixed(1)}, system ${(cpu.system / CALLS).toFixed(1)}), Redis ${redisUs.toFixed(0)} µs, ${((commands - c0) / CALLS).toFixed(2)} commands per call, ${((CALLS / wallMs) * 1000).toFixed(0)} calls/s`,
      );
    }
  } finally {
    client.disconnect();
    await redis.stop();
  }
}

async function run(sessions: SessionStore, queue: EventQueue, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await oneCall(sessions, queue, next++ % DEVICES);
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

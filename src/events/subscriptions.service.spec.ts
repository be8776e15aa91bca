import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import pino from 'pino';
import { ApiError, invalidArgument } from '../common/errors/api-error';
import type { Principal } from '../common/auth/principal';
import { MemoryEventQueue } from '../store/memory/memory-event-queue';
import { MemoryRegistrationStore } from '../store/memory/memory-registration.store';
import { MemorySubscriptionStore } from '../store/memory/memory-subscription.store';
import { ManualClock } from '../store/subscription-store.contract';
import { SubscriptionRequest, SubscriptionUpdateRequest } from './dto/subscription-request.dto';
import { SinkPolicy } from './sink-address';
import { SubscriptionLifecycle } from './subscription-lifecycle';
import { SubscriptionsService } from './subscriptions.service';

const PHONE = '+34600000001';
const DEVICE = '7d444840-9dc0-11d1-b245-5ffdce74fad2';
const STATUS = 'org.camaraproject.webrtc-events.v0.session-status';
const INVITE = 'org.camaraproject.webrtc-events.v0.session-invitation';
const allScopes = [STATUS, INVITE, 'org.camaraproject.webrtc-events.v0.registration-ends']
  .map((t) => `webrtc-events:${t}:create`)
  .concat(['webrtc-events:read', 'webrtc-events:update', 'webrtc-events:delete']);
const principal = (phoneNumber: string | undefined = PHONE, scopes = allScopes): Principal => ({ subject: 'u', phoneNumber, scopes: new Set(scopes) });

/** What the global ValidationPipe does (whitelist, no forbidNonWhitelisted): DTO failures → 400 INVALID_ARGUMENT. */
async function dto<T extends object>(cls: new () => T, body: unknown): Promise<T> {
  const inst = plainToInstance(cls, body);
  const errors = await validate(inst, { whitelist: true });
  if (errors.length > 0) throw invalidArgument(errors.map((e) => e.property).join(', '));
  return inst;
}

function setup(perDevice = 0) {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const store = new MemorySubscriptionStore(clock);
  const queue = new MemoryEventQueue(clock, store);
  const registrations = new MemoryRegistrationStore(clock);
  const lifecycle = new SubscriptionLifecycle(store, queue, pino({ level: 'silent' }), clock);
  const policy = new SinkPolicy(false, async () => [{ address: '93.184.216.34', family: 4 }]);
  const refused: string[] = [];
  const service = new SubscriptionsService(store, registrations, lifecycle, policy, clock, undefined, { perDevice, telemetry: { limitRefused: (l) => refused.push(l) } });
  return { clock, store, queue, registrations, service, refused };
}

async function register(t: ReturnType<typeof setup>, phoneNumber = PHONE, deviceId = DEVICE): Promise<void> {
  const now = t.clock.now();
  await t.registrations.create({
    registrationId: `r-${deviceId}`,
    deviceId,
    phoneNumber,
    createdAt: now,
    expiresAt: now + 3600_000,
    binding: { callId: 'c', cseq: 1, contact: 'sip:x@y' },
    networkExpiresAt: now + 600_000,
    dueAt: now + 500_000,
    refreshFailures: 0,
    version: 0,
  });
}

const request = (over: Record<string, unknown> = {}) => ({
  protocol: 'HTTP',
  sink: 'https://sink.example.com/events',
  types: [STATUS],
  config: { subscriptionDetail: { deviceId: DEVICE }, subscriptionExpireTime: '2030-01-02T00:00:00Z' },
  ...over,
});
const token = (over: Record<string, unknown> = {}) => ({ credentialType: 'ACCESSTOKEN', accessToken: 'secret', accessTokenExpiresUtc: '2030-01-03T00:00:00Z', accessTokenType: 'bearer', ...over });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return `${err.status} ${err.code}`;
    throw err;
  }
  return 'ok';
}

describe(SubscriptionsService.name, () => {
  describe('quota: subscriptions per device', () => {
    it('refuses the one beyond QUOTA_SUBSCRIPTIONS_PER_DEVICE with 429 TOO_MANY_REQUESTS and Retry-After, and counts it', async () => {
      const t = setup(2);
      await register(t);
      const body = await dto(SubscriptionRequest, request());
      await t.service.create(principal(), body);
      const second = await t.service.create(principal(), body);
      await expect(t.service.create(principal(), body)).rejects.toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS', retryAfterS: expect.any(Number) });
      expect(t.refused).toEqual(['subscriptions-per-device']);
      await t.service.delete(principal(), second.id);
      await expect(t.service.create(principal(), body)).resolves.toMatchObject({ status: 'ACTIVE' });
    });

    it('lets exactly the cap through when the creates are made in parallel', async () => {
      const t = setup(3);
      await register(t);
      const body = await dto(SubscriptionRequest, request());
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => t.service.create(principal(), body)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect(results.filter((r) => r.status === 'rejected' && (r.reason as { status?: number }).status === 429)).toHaveLength(7);
      expect(t.refused).toHaveLength(7);
    });
  });

  describe('create', () => {
    it('creates an ACTIVE subscription (201 body) with several types, without echoing the credential', async () => {
      const t = setup();
      await register(t);
      const body = await dto(SubscriptionRequest, request({ types: [STATUS, INVITE], sinkCredential: token(), extra: 'ignored' }));
      const s = await t.service.create(principal(), body);
      expect(s).toEqual({
        id: expect.any(String),
        protocol: 'HTTP',
        sink: 'https://sink.example.com/events',
        types: [STATUS, INVITE],
        config: { subscriptionDetail: { deviceId: DEVICE }, subscriptionExpireTime: '2030-01-02T00:00:00Z' },
        startsAt: '2030-01-01T00:00:00.000Z',
        expiresAt: '2030-01-02T00:00:00.000Z',
        status: 'ACTIVE',
      });
      expect(JSON.stringify(s)).not.toContain('secret');
      expect((await t.store.findByDevice(PHONE, DEVICE)).map((x) => x.id)).toEqual([s.id]);
    });

    it.each([
      ['missing sink', request({ sink: undefined }), '400 INVALID_ARGUMENT'],
      ['sink too long', request({ sink: `https://x.example.com/${'a'.repeat(1024)}` }), '400 INVALID_ARGUMENT'],
      ['missing protocol', request({ protocol: undefined }), '400 INVALID_ARGUMENT'],
      ['no types', request({ types: [] }), '400 INVALID_ARGUMENT'],
      ['unknown type', request({ types: ['org.camaraproject.webrtc-events.v0.subscription-ended'] }), '400 INVALID_ARGUMENT'],
      ['duplicate types', request({ types: [STATUS, STATUS] }), '400 INVALID_ARGUMENT'],
      ['four types', request({ types: [STATUS, INVITE, STATUS, INVITE] }), '400 INVALID_ARGUMENT'],
      ['missing config', request({ config: undefined }), '400 INVALID_ARGUMENT'],
      ['missing subscriptionDetail', request({ config: {} }), '400 INVALID_ARGUMENT'],
      ['deviceId not a UUID', request({ config: { subscriptionDetail: { deviceId: 'dev-1' } } }), '400 INVALID_ARGUMENT'],
      ['expire time without zone', request({ config: { subscriptionDetail: { deviceId: DEVICE }, subscriptionExpireTime: '2030-01-02T00:00:00' } }), '400 INVALID_ARGUMENT'],
      ['subscriptionMaxEvents 0', request({ config: { subscriptionDetail: { deviceId: DEVICE }, subscriptionMaxEvents: 0 } }), '400 INVALID_ARGUMENT'],
      ['initialEvent not boolean', request({ config: { subscriptionDetail: { deviceId: DEVICE }, initialEvent: 'yes' } }), '400 INVALID_ARGUMENT'],
      ['token expiry without zone', request({ sinkCredential: token({ accessTokenExpiresUtc: '2030-01-03' }) }), '400 INVALID_ARGUMENT'],
      ['expire time in the past', request({ config: { subscriptionDetail: { deviceId: DEVICE }, subscriptionExpireTime: '2029-12-31T00:00:00Z' } }), '400 INVALID_ARGUMENT'],
      ['protocol not HTTP', request({ protocol: 'MQTT3' }), '400 INVALID_PROTOCOL'],
      ['http sink', request({ sink: 'http://sink.example.com/' }), '400 INVALID_SINK'],
      ['loopback sink', request({ sink: 'https://127.0.0.1/' }), '400 INVALID_SINK'],
      ['metadata sink', request({ sink: 'https://169.254.169.254/latest' }), '400 INVALID_SINK'],
      ['credential type', request({ sinkCredential: { credentialType: 'PLAIN' } }), '400 INVALID_CREDENTIAL'],
      ['credential without token', request({ sinkCredential: token({ accessToken: undefined }) }), '400 INVALID_CREDENTIAL'],
      ['expired credential', request({ sinkCredential: token({ accessTokenExpiresUtc: '2029-01-01T00:00:00Z' }) }), '400 INVALID_CREDENTIAL'],
      ['token type', request({ sinkCredential: token({ accessTokenType: 'mac' }) }), '400 INVALID_TOKEN'],
      ['device not registered', request({ config: { subscriptionDetail: { deviceId: '3fa85f64-5717-4562-b3fc-2c963f66afa6' } } }), '422 SERVICE_NOT_APPLICABLE'],
    ])('%s → %s', async (_, body, code) => {
      const t = setup();
      await register(t);
      expect(await codeOf(dto(SubscriptionRequest, body).then((b) => t.service.create(principal(), b)))).toBe(code);
    });

    it('needs the create scope of every requested type', async () => {
      const t = setup();
      await register(t);
      const body = await dto(SubscriptionRequest, request({ types: [STATUS, INVITE] }));
      expect(await codeOf(t.service.create(principal(PHONE, [`webrtc-events:${STATUS}:create`]), body))).toBe('403 PERMISSION_DENIED');
    });

    it('needs a token bound to a phone number', async () => {
      const t = setup();
      const body = await dto(SubscriptionRequest, request());
      expect(await codeOf(t.service.create({ subject: 'u', phoneNumber: undefined, scopes: new Set(allScopes) }, body))).toBe('403 INVALID_TOKEN_CONTEXT');
    });
  });

  describe('read, update, delete', () => {
    async function created() {
      const t = setup();
      await register(t);
      const s = await t.service.create(principal(), await dto(SubscriptionRequest, request()));
      return { t, s };
    }

    it("lists and gets only the caller's own subscriptions; someone else's is 404", async () => {
      const { t, s } = await created();
      expect((await t.service.list(principal())).map((x) => x.id)).toEqual([s.id]);
      expect(await t.service.list(principal('+34699999999'))).toEqual([]);
      expect((await t.service.get(principal(), s.id)).id).toBe(s.id);
      expect(await codeOf(t.service.get(principal('+34699999999'), s.id))).toBe('404 NOT_FOUND');
      expect(await codeOf(t.service.get(principal(), 'nope'))).toBe('404 NOT_FOUND');
    });

    it('updates the expire time and the credential', async () => {
      const { t, s } = await created();
      const body = await dto(SubscriptionUpdateRequest, { config: { subscriptionExpireTime: '2030-02-01T00:00:00Z' }, sinkCredential: token() });
      const u = await t.service.update(principal(), s.id, body);
      expect(u.config.subscriptionExpireTime).toBe('2030-02-01T00:00:00Z');
      expect((await t.store.get(s.id))?.sinkCredential?.accessToken).toBe('secret');
      expect(await codeOf(t.service.update(principal(), s.id, await dto(SubscriptionUpdateRequest, { config: { subscriptionExpireTime: '2020-01-01T00:00:00Z' } })))).toBe('400 INVALID_ARGUMENT');
      expect(await codeOf(t.service.update(principal(), s.id, await dto(SubscriptionUpdateRequest, { sinkCredential: { credentialType: 'X' } })))).toBe('400 INVALID_CREDENTIAL');
      expect(await codeOf(t.service.update(principal('+34699999999'), s.id, body))).toBe('404 NOT_FOUND');
    });

    it('delete ends the subscription and enqueues subscription-ended (SUBSCRIPTION_DELETED)', async () => {
      const { t, s } = await created();
      expect(await codeOf(t.service.delete(principal('+34699999999'), s.id))).toBe('404 NOT_FOUND');
      await t.service.delete(principal(), s.id, 'corr-1');
      const [queued] = await t.queue.claimReadyHeads(t.clock.now(), 10, 1000, 'test');
      expect(queued?.head).toMatchObject({ event: { type: 'org.camaraproject.webrtc-events.v0.subscription-ended', correlator: 'corr-1', data: { terminationReason: 'SUBSCRIPTION_DELETED' } } });
      expect(await codeOf(t.service.get(principal(), s.id))).toBe('404 NOT_FOUND');
      expect(await codeOf(t.service.delete(principal(), s.id))).toBe('404 NOT_FOUND');
      expect(await t.service.list(principal())).toEqual([]);
    });

    it('an expired subscription is no longer visible', async () => {
      const { t, s } = await created();
      t.clock.advance(24 * 3600_000);
      expect(await codeOf(t.service.get(principal(), s.id))).toBe('404 NOT_FOUND');
    });
  });
});

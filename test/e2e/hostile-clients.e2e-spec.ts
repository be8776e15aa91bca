import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, startLab } from '../support/lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { tokenKey } from '../../src/common/http/rate-limits';

const ALICE = '+17085852753';
const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const SUBS = '/webrtc-events/v0.3/subscriptions';
const ALL_SCOPES = [
  'webrtc-registration:sessions:create',
  'webrtc-registration:sessions:read',
  'webrtc-registration:sessions:write',
  'webrtc-registration:sessions:delete',
  'webrtc-call-handling:sessions:create',
  'webrtc-call-handling:sessions:read',
  'webrtc-call-handling:sessions:write',
  'webrtc-call-handling:sessions:delete',
  'webrtc-events:read',
  'webrtc-events:delete',
  'webrtc-events:org.camaraproject.webrtc-events.v0.session-invitation:create',
].join(' ');
const ERROR_INFO = { status: expect.any(Number), code: expect.any(String), message: expect.any(String) };

/** Issue 13: the CAMARA contract under careless and hostile clients (body handling, framework errors). */
describe('CAMARA contract under careless and hostile clients', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let token: string;

  beforeAll(async () => {
    lab = await startLab();
    idp = await createTestIdp();
    gw = await startGateway(lab, idp);
    token = await idp.token({ phone_number: ALICE, scope: ALL_SCOPES });
  });
  afterAll(async () => {
    await gw?.close();
    await lab?.stop();
  });

  /** The headers every request of CAMARA's Test_definitions carries (their Background). */
  const camaraHeaders = (t?: string): Record<string, string> => ({
    'content-type': 'application/json',
    'x-correlator': `b4333c46-49c0-4f62-80d7-${randomUUID().slice(-12)}`,
    ...(t !== undefined && { authorization: `Bearer ${t}` }),
  });

  describe('CAMARA Test_definitions DELETE flows, replayed with their headers (Content-Type on every request, no body)', () => {
    it('webrtc-registration deleteRegistrationById: 204, then 404', async () => {
      const reg = await gw.request('POST', REG, { token, body: { deviceId: randomUUID() } });
      expect(reg.status).toBe(201);
      const url = `${REG}/${(reg.body as { registrationId: string }).registrationId}`;
      expect((await gw.request('DELETE', url, { headers: camaraHeaders(token), rawBody: '' })).status).toBe(204);
      const again = await gw.request('DELETE', url, { headers: camaraHeaders(token), rawBody: '' });
      expect(again.status).toBe(404);
      expect(again.body).toEqual({ status: 404, code: 'NOT_FOUND', message: expect.any(String) });
    });

    it('webrtc-events deleteNotificationChannelSubscription: 204', async () => {
      const deviceId = randomUUID();
      expect((await gw.request('POST', REG, { token, body: { deviceId } })).status).toBe(201);
      const sub = await gw.request('POST', SUBS, {
        token,
        body: { protocol: 'HTTP', sink: 'http://127.0.0.1:9/cb', types: ['org.camaraproject.webrtc-events.v0.session-invitation'], config: { subscriptionDetail: { deviceId } } },
      });
      expect(sub.body).toMatchObject({ id: expect.any(String) });
      const res = await gw.request('DELETE', `${SUBS}/${(sub.body as { id: string }).id}`, { headers: camaraHeaders(token), rawBody: '' });
      expect([202, 204]).toContain(res.status);
    });

    it('webrtc-call-handling deleteSessionById on an unknown session: 404 NOT_FOUND, not a body error', async () => {
      const res = await gw.request('DELETE', `${CALLS}/${randomUUID()}`, { headers: camaraHeaders(token), rawBody: '' });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    });

    it.each([REG, CALLS, SUBS])('%s DELETE: 401 without a token, 403 without the scope, before any body error', async (base) => {
      const url = `${base}/${randomUUID()}`;
      const noToken = await gw.request('DELETE', url, { headers: camaraHeaders(), rawBody: '{"not json' });
      expect(noToken.status).toBe(401);
      expect(noToken.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      const readOnly = await idp.token({ phone_number: ALICE, scope: 'webrtc-registration:sessions:read' });
      const noScope = await gw.request('DELETE', url, { headers: camaraHeaders(readOnly), rawBody: '{"not json' });
      expect(noScope.status).toBe(403);
      expect(noScope.body).toMatchObject({ status: 403, code: 'PERMISSION_DENIED' });
    });

    it.each([
      [`${CALLS}/`, 'DELETE'],
      [`${CALLS}//status`, 'PUT'],
      [`${REG}/`, 'DELETE'],
      [`${SUBS}/`, 'GET'],
    ] as const)('*_400.1_no_request: %s (%s) → 400 INVALID_ARGUMENT', async (url, method) => {
      const res = await gw.request(method, url, { headers: camaraHeaders(token), ...(method !== 'GET' && { rawBody: '' }) });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ status: 400, code: 'INVALID_ARGUMENT', message: expect.any(String) });
    });
  });

  describe('every framework-level error is a CAMARA ErrorInfo', () => {
    it('an id over 100 characters → 400 INVALID_ARGUMENT', async () => {
      const res = await gw.request('GET', `${CALLS}/${'a'.repeat(150)}`, { token });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ status: 400, code: 'INVALID_ARGUMENT', message: expect.any(String) });
    });
    it('a malformed percent-escape (%zz) in an id → 400 INVALID_ARGUMENT', async () => {
      const res = await gw.request('GET', `${CALLS}/%zz`, { token });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ status: 400, code: 'INVALID_ARGUMENT', message: expect.any(String) });
    });
    it('JSON nested 10,000 levels deep (5,000 inside locationDetails) → 400, not 500', async () => {
      const deep = `{"deviceId":"${randomUUID()}","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      const res = await gw.request('POST', REG, { token, rawBody: deep, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ status: 400, code: 'INVALID_ARGUMENT', message: expect.stringContaining('nested') });
      const loc = `{"status":"Connected","locationDetails":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
      const res2 = await gw.request('PUT', `${CALLS}/${randomUUID()}/status`, { token, rawBody: loc, headers: { 'content-type': 'application/json' } });
      expect(res2.status).toBe(400);
    });
    it('a JSON body null on PUT → 400 INVALID_ARGUMENT', async () => {
      const res = await gw.request('PUT', `${REG}/${randomUUID()}`, { token, rawBody: 'null', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
    });
    it('an impossible date (2026-11-31) → 400 INVALID_ARGUMENT naming the field', async () => {
      const res = await gw.request('POST', REG, { token, body: { deviceId: randomUUID(), registrationExpireTime: '2026-11-31T02:30:00Z' } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('registrationExpireTime') });
    });
    it('callType: null is not an absent callType → 400 INVALID_ARGUMENT', async () => {
      const res = await gw.request('POST', CALLS, {
        token,
        headers: { registrationid: randomUUID() },
        body: { originatorAddress: `tel:${ALICE}`, receiverAddress: 'tel:+15550009999', offer: { sdp: 'v=0\r\n' }, callType: null },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('callType') });
    });
    it('headers over 16 KB → 431 in CAMARA shape (on a real socket)', async () => {
      await gw.app.listen(0, '127.0.0.1');
      const { port } = gw.app.getHttpServer().address() as { port: number };
      const raw = await new Promise<string>((resolve, reject) => {
        let text = '';
        const s = connect(port, '127.0.0.1', () => s.write(`GET ${REG} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
        s.on('data', (d: Buffer) => (text += d.toString()));
        s.on('close', () => resolve(text));
        s.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 431 /);
      expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({ ...ERROR_INFO, status: 431 });
    });
  });

  describe('request-rate limits: per token in Redis across instances, per address in each instance (429 TOO_MANY_REQUESTS with Retry-After)', () => {
    const prefix = `rl${Date.now().toString(36)}:`;
    let a: GatewayUnderTest;
    let b: GatewayUnderTest;
    let mon: Redis;
    /** The keys of the rate-limit commands other clients sent to Redis (MONITOR; commands run inside Lua excluded). */
    const rlKeys: string[] = [];
    beforeAll(async () => {
      const env = { RATE_LIMIT_PER_TOKEN: '4', RATE_LIMIT_PER_ADDRESS: '3', RATE_LIMIT_WINDOW_S: '60', REDIS_KEY_PREFIX: prefix };
      a = await startGateway(lab, idp, env);
      b = await startGateway(lab, idp, env);
      if (!lab.redis) throw new Error('the lab runs Redis');
      mon = await lab.redis.client().monitor();
      mon.on('monitor', (_time: string, args: string[], source: string) => {
        if (source === 'lua' || source.endsWith(' lua')) return;
        rlKeys.push(...args.filter((arg) => arg.startsWith(`${prefix}rl:`)));
      });
    });
    afterAll(async () => {
      mon?.disconnect();
      await a?.close();
      await b?.close();
    });

    /** GET with a token from a client address of our choosing (Fastify inject's remoteAddress). */
    const list = async (g: GatewayUnderTest, remoteAddress: string, token: string): Promise<{ status: number; body: unknown; headers: Record<string, unknown> }> => {
      const res = await g.app
        .getHttpAdapter()
        .getInstance()
        .inject({ method: 'GET', url: `${REG}?deviceId=${randomUUID()}`, remoteAddress, headers: { authorization: `Bearer ${token}` } });
      return { status: res.statusCode, body: res.json<unknown>(), headers: res.headers };
    };
    const redisKeyOf = (token: string) => `${prefix}rl:t:${tokenKey({ headers: { authorization: `Bearer ${token}` } } as unknown as FastifyRequest)}`;
    const refusals = async (g: GatewayUnderTest, limit: string) =>
      Number(new RegExp(`gateway_limit_refusals_total\\{limit="${limit}"\\} (\\d+)`).exec((await g.request('GET', '/metrics')).text)?.[1] ?? 0);

    it('counts an address in the instance that serves it, in memory: the fourth request is refused without a Redis command', async () => {
      const token = (sub: string) => idp.token({ phone_number: ALICE, scope: ALL_SCOPES, sub });
      const counted = await token('rl-addr-1');
      const refusedToken = await token('rl-addr-2');
      const control = await token('rl-addr-3');
      for (let i = 0; i < 3; i++) expect((await list(a, '198.51.100.7', counted)).status).toBe(200);
      const refused = await list(a, '198.51.100.7', refusedToken);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ status: 429, code: 'TOO_MANY_REQUESTS', message: expect.stringContaining('per address') });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Another address on the same instance, and the same address on the other instance, are served.
      expect((await list(a, '198.51.100.8', control)).status).toBe(200);
      expect((await list(b, '198.51.100.7', control)).status).toBe(200);
      expect(await refusals(a, 'requests-per-address')).toBe(1);
      expect(await refusals(b, 'requests-per-address')).toBe(0);
      // MONITOR reports commands in the order Redis ran them: once both control requests' token counts are
      // seen, everything the earlier requests sent has been seen too.
      await eventually(async () => rlKeys.filter((k) => k === redisKeyOf(control)).length === 2, 5000, 'the control token counted twice in Redis');
      expect(rlKeys.filter((k) => k === redisKeyOf(counted))).toHaveLength(3); // per-token counts do reach Redis
      expect(rlKeys).not.toContain(redisKeyOf(refusedToken)); // refused by its address before the token was counted
      expect(rlKeys.filter((k) => !k.startsWith(`${prefix}rl:t:`))).toEqual([]); // no per-address key in Redis
      expect(rlKeys.filter((k) => k.includes('198.51.100'))).toEqual([]);
    });

    it('counts one token on both instances and refuses the fifth request, counted in /metrics', async () => {
      const t = await idp.token({ phone_number: ALICE, scope: ALL_SCOPES });
      // three requests of this address reach `a`, two reach `b`: within the per-address limit of each instance
      expect((await list(a, '203.0.113.1', t)).status).toBe(200);
      expect((await list(b, '203.0.113.1', t)).status).toBe(200);
      expect((await list(a, '203.0.113.1', t)).status).toBe(200);
      expect((await list(b, '203.0.113.1', t)).status).toBe(200);
      const refused = await list(a, '203.0.113.1', t);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ status: 429, code: 'TOO_MANY_REQUESTS', message: expect.stringContaining('per token') });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.headers['x-correlator']).toBeDefined();
      // Another token is not affected; health and metrics are never limited.
      const other = await idp.token({ phone_number: ALICE, scope: ALL_SCOPES, sub: 'other' });
      expect((await list(a, '203.0.113.2', other)).status).toBe(200);
      expect(await refusals(a, 'requests-per-token')).toBe(1);
      expect(await refusals(a, 'requests-per-address')).toBe(1); // the previous test's only
    });
  });

  describe('slow and greedy clients (real sockets)', () => {
    let slow: GatewayUnderTest;
    let port: number;
    beforeAll(async () => {
      slow = await startGateway(lab, idp, { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_MAX_CONNECTIONS: '3' });
      await slow.app.listen(0, '127.0.0.1');
      port = (slow.app.getHttpServer().address() as { port: number }).port;
    });
    afterAll(async () => {
      await slow?.close();
    });
    const open = () =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
      });
    const closed = (s: Socket) =>
      new Promise<string>((resolve) => {
        let text = '';
        s.on('data', (d: Buffer) => (text += d.toString()));
        s.on('close', () => resolve(text));
      });

    it('answers 408 in CAMARA shape and closes a connection that sends its headers too slowly', async () => {
      const s = await open();
      const started = Date.now();
      const done = closed(s);
      s.write(`GET ${REG} HTTP/1.1\r\nHost: x\r\n`); // headers never finished
      const raw = await done;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(raw).toMatch(/^HTTP\/1\.1 408 /);
      expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({ status: 408, code: 'TIMEOUT', message: expect.any(String) });
    });

    it('closes connections beyond HTTP_MAX_CONNECTIONS at once', async () => {
      const held = [await open(), await open(), await open()];
      const extra = await open();
      const text = await closed(extra);
      expect(text).toBe('');
      for (const h of held) h.destroy();
    });
  });

  describe('quota: active registrations per number', () => {
    let q: GatewayUnderTest;
    beforeAll(async () => {
      q = await startGateway(lab, idp, { QUOTA_REGISTRATIONS_PER_NUMBER: '2' });
    });
    afterAll(async () => {
      await q?.close();
    });

    it('refuses the third registration of one number with 429 and Retry-After, until one is deleted', async () => {
      const t = await idp.token({ phone_number: '+17085850001', scope: ALL_SCOPES });
      const register = () => q.request('POST', REG, { token: t, body: { deviceId: randomUUID() } });
      const first = await register();
      expect(first.status).toBe(201);
      expect((await register()).status).toBe(201);
      const refused = await register();
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ status: 429, code: 'TOO_MANY_REQUESTS', message: expect.stringContaining('registrations') });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect((await q.request('GET', '/metrics')).text).toMatch(/gateway_limit_refusals_total\{limit="registrations-per-number"\} 1/);
      expect((await q.request('DELETE', `${REG}/${(first.body as { registrationId: string }).registrationId}`, { token: t })).status).toBe(204);
      expect((await register()).status).toBe(201);
    });

    it('lets exactly two of eight parallel registrations of one number through (the store checks and inserts atomically)', async () => {
      const t = await idp.token({ phone_number: '+17085854000', scope: ALL_SCOPES });
      const results = await Promise.all(Array.from({ length: 8 }, () => q.request('POST', REG, { token: t, body: { deviceId: randomUUID() } })));
      expect(results.map((r) => r.status).sort()).toEqual([201, 201, 429, 429, 429, 429, 429, 429]);
      for (const r of results.filter((x) => x.status === 201)) {
        expect((await q.request('DELETE', `${REG}/${(r.body as { registrationId: string }).registrationId}`, { token: t })).status).toBe(204);
      }
    });
  });

  describe('quota: concurrent sessions per number', () => {
    let q: GatewayUnderTest;
    beforeAll(async () => {
      q = await startGateway(lab, idp, { QUOTA_SESSIONS_PER_NUMBER: '1', SIP_RING_TIMEOUT_MS: '20000' });
    });
    afterAll(async () => {
      await q?.close();
    });

    it('refuses a second call while the first rings with 429 and Retry-After, accepts one once it ended', async () => {
      const phone = '+17085850002';
      const t = await idp.token({ phone_number: phone, scope: ALL_SCOPES });
      const reg = await q.request('POST', REG, { token: t, body: { deviceId: randomUUID() } });
      expect(reg.status).toBe(201);
      const registrationid = (reg.body as { registrationId: string }).registrationId;
      const offer = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
      const call = () =>
        q.request('POST', CALLS, { token: t, headers: { registrationid }, body: { originatorAddress: `tel:${phone}`, receiverAddress: `tel:${lab.numbers.noAnswer}`, offer: { sdp: offer } } });
      const first = await call();
      expect(first.status).toBe(201);
      const refused = await call();
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ status: 429, code: 'TOO_MANY_REQUESTS', message: expect.stringContaining('sessions') });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect((await q.request('DELETE', `${CALLS}/${(first.body as { mediaSessionId: string }).mediaSessionId}`, { token: t })).status).toBe(204);
      const again = await eventually(
        async () => {
          const r = await call();
          return r.status === 201 ? r : undefined;
        },
        10_000,
        'a slot to free up',
      );
      await q.request('DELETE', `${CALLS}/${(again.body as { mediaSessionId: string }).mediaSessionId}`, { token: t });
    });
  });
});

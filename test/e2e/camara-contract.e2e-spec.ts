import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, startLab } from '../support/lab';
import { GatewayUnderTest, startGateway } from '../support/gateway';

const ALICE = '+17085852753';
const BASE = '/webrtc-registration/v0.4/sessions';
const CREATE = 'webrtc-registration:sessions:create webrtc-registration:sessions:read';

/** The CAMARA contract every endpoint shares: auth, errors, x-correlator. */
describe('CAMARA contract: authentication, errors and correlation', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;

  beforeAll(async () => {
    lab = await startLab({ redis: false });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp);
  });
  afterAll(async () => {
    await gw?.close();
    await lab?.stop();
  });

  const list = (token?: string, headers: Record<string, string> = {}) => gw.request('GET', `${BASE}?deviceId=${randomUUID()}`, { ...(token !== undefined && { token }), headers });

  describe('401 UNAUTHENTICATED', () => {
    it.each<[string, () => Promise<string | undefined>]>([
      ['no token', async () => undefined],
      ['an expired token', () => idp.token({ phone_number: ALICE, scope: CREATE, expiresIn: -60 })],
      ['a token signed by an unknown key', () => idp.tokenSignedByOtherKey({ phone_number: ALICE, scope: CREATE })],
      ['an HS256 token (algorithm confusion)', () => idp.hs256Token({ phone_number: ALICE, scope: CREATE })],
      ['an unsigned token (alg none)', async () => idp.unsignedToken({ phone_number: ALICE, scope: CREATE })],
      ['a token for another issuer', () => idp.token({ phone_number: ALICE, scope: CREATE, iss: 'https://evil.example' })],
      ['a token for another audience', () => idp.token({ phone_number: ALICE, scope: CREATE, aud: 'someone-else' })],
    ])('for %s', async (_what, make) => {
      const res = await list(await make());
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ status: 401, code: 'UNAUTHENTICATED', message: expect.any(String) });
      expect(res.headers['x-correlator']).toBeDefined();
    });

    it('accepts RS256 tokens as well as ES256', async () => {
      expect((await list(await idp.token({ phone_number: ALICE, scope: CREATE, alg: 'RS256' }))).status).toBe(200);
    });
  });

  it('answers 403 PERMISSION_DENIED when the scope is missing', async () => {
    const res = await list(await idp.token({ phone_number: ALICE, scope: 'webrtc-registration:sessions:create' }));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ status: 403, code: 'PERMISSION_DENIED' });
  });

  it('answers 403 INVALID_TOKEN_CONTEXT when the token names no subscriber', async () => {
    const res = await list(await idp.token({ scope: CREATE }));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'INVALID_TOKEN_CONTEXT' });
  });

  describe('x-correlator', () => {
    it('echoes the client correlator on success and on errors', async () => {
      const token = await idp.token({ phone_number: ALICE, scope: CREATE });
      expect((await list(token, { 'x-correlator': 'abc-123:x' })).headers['x-correlator']).toBe('abc-123:x');
      expect((await list(undefined, { 'x-correlator': 'abc-124' })).headers['x-correlator']).toBe('abc-124');
    });
    it('refuses one that breaks the pattern with 400 INVALID_ARGUMENT', async () => {
      const token = await idp.token({ phone_number: ALICE, scope: CREATE });
      const res = await list(token, { 'x-correlator': 'not allowed!' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT', message: expect.stringContaining('x-correlator') });
      expect(res.headers['x-correlator']).toMatch(/^[0-9a-f-]{36}$/);
    });
    it('creates one when the client sends none', async () => {
      expect((await list()).headers['x-correlator']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('framework errors keep the CAMARA shape', () => {
    let token: string;
    beforeAll(async () => {
      token = await idp.token({ phone_number: ALICE, scope: CREATE });
    });
    it('unknown route → 404 NOT_FOUND', async () => {
      const res = await gw.request('GET', '/webrtc-registration/v9/nothing', { token });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ status: 404, code: 'NOT_FOUND', message: expect.any(String) });
    });
    it('malformed JSON → 400 INVALID_ARGUMENT', async () => {
      const res = await gw.request('POST', BASE, { token, rawBody: '{"deviceId":', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
    });
    it('wrong content type → 415', async () => {
      const res = await gw.request('POST', BASE, { token, rawBody: 'deviceId=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    });
    it('body too large → 413', async () => {
      const res = await gw.request('POST', BASE, { token, rawBody: JSON.stringify({ deviceId: randomUUID(), pad: 'x'.repeat(300_000) }), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    });
    it('validation names the field → 400 INVALID_ARGUMENT, before any lookup', async () => {
      const res = await gw.request('POST', BASE, { token, body: { deviceId: 'not-a-uuid' } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('deviceId') });
    });
    it('a JSON array body → 400', async () => {
      const res = await gw.request('POST', BASE, { token, rawBody: '[1,2]', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
    });
  });
});

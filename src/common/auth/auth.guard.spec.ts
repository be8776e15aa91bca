import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import pino from 'pino';
import { loadConfig } from '../../config/app-config';
import { AuthGuard } from './auth.guard';
import type { Principal } from './principal';

async function setup(env: Record<string, string> = {}) {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  const config = loadConfig({ AUTH_JWKS_URL: pathToFileURL(join(dir, 'jwks.json')).href, ...env });
  const guard = new AuthGuard(new Reflector(), config, pino({ level: 'silent' }));
  const sign = (claims: Record<string, unknown>, exp: string | number = '5m') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt().setExpirationTime(exp).sign(privateKey);
  const run = async (token: string): Promise<Principal | undefined> => {
    const req: { headers: Record<string, string>; principal?: Principal } = { headers: { authorization: `Bearer ${token}` } };
    const ctx = { getHandler: () => () => undefined, getClass: () => class {}, switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
    await guard.canActivate(ctx);
    return req.principal;
  };
  const signWithoutExp = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt().sign(privateKey);
  return { guard, sign, signWithoutExp, run };
}

describe(AuthGuard.name, () => {
  it('reads the subscriber and the scopes from a verified token', async () => {
    const { sign, run } = await setup();
    const p = await run(await sign({ phone_number: '+17085852753', scope: 'a b', sub: 'alice' }));
    expect(p).toEqual({ subject: 'alice', phoneNumber: '+17085852753', scopes: new Set(['a', 'b']) });
  });

  it('binds no subscriber when phone_number is not E.164', async () => {
    const { sign, run } = await setup();
    expect((await run(await sign({ phone_number: '17085852753' })))?.phoneNumber).toBeUndefined();
  });

  it('verifies a token once and serves repeats from the cache', async () => {
    const { guard, sign, run } = await setup();
    const token = await sign({ phone_number: '+17085852753' });
    const spy = jest.spyOn(guard as unknown as { getKey: (...a: unknown[]) => unknown }, 'getKey');
    await run(token);
    await run(token);
    await run(token);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('keeps at most its bound of verified tokens, the oldest going first', async () => {
    const { guard, sign, run } = await setup();
    Object.assign(guard, { verifiedMax: 2 });
    const [t1, t2, t3] = await Promise.all(['+17085852753', '+17085854000', '+17085850001'].map((phone_number) => sign({ phone_number })));
    const spy = jest.spyOn(guard as unknown as { getKey: (...a: unknown[]) => unknown }, 'getKey');
    for (const t of [t1, t2, t3]) await run(t as string);
    expect(spy).toHaveBeenCalledTimes(3);
    expect((guard as unknown as { verified: Map<string, unknown> }).verified.size).toBe(2);
    await run(t3 as string); // cached
    expect(spy).toHaveBeenCalledTimes(3);
    await run(t1 as string); // pushed out by t3: verified again
    expect(spy).toHaveBeenCalledTimes(4);
  });

  it('does not serve an expired token from the cache', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const { sign, run } = await setup();
      const token = await sign({ phone_number: '+17085852753' }, Math.floor(Date.now() / 1000) + 2);
      await run(token);
      jest.setSystemTime(Date.now() + 3000);
      await expect(run(token)).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses a token whose signature was tampered with, even after the genuine one was cached', async () => {
    const { sign, run } = await setup();
    const token = await sign({ phone_number: '+17085852753' });
    await run(token);
    const tampered = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    await expect(run(tampered)).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a token without exp with 401 UNAUTHENTICATED (it would never expire)', async () => {
    const { signWithoutExp, run } = await setup();
    await expect(run(await signWithoutExp({ phone_number: '+17085852753' }))).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED', message: expect.stringContaining('exp') });
  });

  it('refuses a token that lives longer than AUTH_MAX_TOKEN_LIFETIME_S, accepts one within it', async () => {
    const { sign, run } = await setup({ AUTH_MAX_TOKEN_LIFETIME_S: '3600' });
    await expect(run(await sign({ phone_number: '+17085852753' }, '2h'))).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED', message: expect.stringContaining('3600') });
    await expect(run(await sign({ phone_number: '+17085852753' }, '59m'))).resolves.toMatchObject({ phoneNumber: '+17085852753' });
  });
});

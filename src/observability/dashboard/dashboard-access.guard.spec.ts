import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import pino from 'pino';
import { createTestIdp, TestIdp } from '../../../test/support/auth';
import { ApiError } from '../../common/errors/api-error';
import { AppConfig, loadConfig } from '../../config/app-config';
import { DASHBOARD_SCOPE, DashboardAccessGuard, isAdminToken } from './dashboard-access.guard';
import { Secret } from '../../config/secret';

const ADMIN = 'admin-token-0123456789abcdef0123456789';

function guardFor(config: AppConfig): DashboardAccessGuard {
  return new DashboardAccessGuard(new Reflector(), config, pino({ level: 'silent' }));
}

function ctx(authorization?: string): ExecutionContextHost {
  const host = new ExecutionContextHost([{ headers: authorization === undefined ? {} : { authorization } }, {}]);
  host.setType('http');
  return host;
}

async function refusal(p: Promise<boolean>): Promise<{ status: number; code: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, code: err.code };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe(DashboardAccessGuard.name, () => {
  let idp: TestIdp;
  let guard: DashboardAccessGuard;

  beforeAll(async () => {
    idp = await createTestIdp();
    guard = guardFor(loadConfig({ ADMIN_TOKEN: ADMIN, AUTH_JWKS_URL: idp.jwksUrl, AUTH_ISSUER: idp.issuer, AUTH_AUDIENCE: idp.audience }));
  });

  it('lets the admin token in', async () => {
    await expect(guard.canActivate(ctx(`Bearer ${ADMIN}`))).resolves.toBe(true);
  });

  it(`lets a JWT with scope ${DASHBOARD_SCOPE} in`, async () => {
    const token = await idp.token({ scope: `webrtc-events:read ${DASHBOARD_SCOPE}` });
    await expect(guard.canActivate(ctx(`Bearer ${token}`))).resolves.toBe(true);
  });

  it('refuses a valid JWT without the dashboard scope with 403 PERMISSION_DENIED', async () => {
    const token = await idp.token({ scope: 'webrtc-call-handling:sessions:read' });
    expect(await refusal(guard.canActivate(ctx(`Bearer ${token}`)))).toEqual({ status: 403, code: 'PERMISSION_DENIED' });
  });

  it('refuses a JWT signed by an unknown key, or expired, with 401', async () => {
    const forged = await idp.tokenSignedByOtherKey({ scope: DASHBOARD_SCOPE });
    expect(await refusal(guard.canActivate(ctx(`Bearer ${forged}`)))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    const expired = await idp.token({ scope: DASHBOARD_SCOPE, expiresIn: -60 });
    expect(await refusal(guard.canActivate(ctx(`Bearer ${expired}`)))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('refuses a request without credentials, a wrong admin token, and a non-Bearer scheme with 401', async () => {
    expect(await refusal(guard.canActivate(ctx()))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    expect(await refusal(guard.canActivate(ctx(`Bearer ${ADMIN}x`)))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    expect(await refusal(guard.canActivate(ctx(`Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}`)))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('is never open by default: without ADMIN_TOKEN and JWKS every request is refused', async () => {
    const closed = guardFor(loadConfig({}));
    expect(await refusal(closed.canActivate(ctx('Bearer anything')))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    expect(await refusal(closed.canActivate(ctx('Bearer ')))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('compares the admin token in constant time whatever the lengths', () => {
    expect(isAdminToken('abc', new Secret('abc'))).toBe(true);
    expect(isAdminToken('abcd', new Secret('abc'))).toBe(false);
    expect(isAdminToken('', new Secret('abc'))).toBe(false);
    expect(isAdminToken('abc', undefined)).toBe(false);
  });
});

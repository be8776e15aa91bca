import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthGuard } from '../../common/auth/auth.guard';
import { Scopes } from '../../common/auth/scopes.decorator';
import { unauthenticated } from '../../common/errors/api-error';
import { ROOT_LOGGER, RootLogger } from '../../common/logging/root-logger';
import { AppConfig } from '../../config/app-config';
import type { Secret } from '../../config/secret';

/** The scope a JWT needs to read the live dashboard. */
export const DASHBOARD_SCOPE = 'gateway:dashboard:read';

/** Constant-time comparison of a presented bearer value with ADMIN_TOKEN (hashing first hides the length). */
export function isAdminToken(presented: string, token: Secret | undefined): boolean {
  if (!token) return false;
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(token.reveal(), 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** What the JWT path checks the token against: the AuthGuard reads its scopes from this metadata. */
@Scopes(DASHBOARD_SCOPE)
class DashboardOperation {
  @Scopes(DASHBOARD_SCOPE)
  read(): void {
    // metadata holder only
  }
}

interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Dashboard data is for operators only. Accepted credentials:
 * - `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time), or
 * - a JWT carrying scope `gateway:dashboard:read`, verified by the same AuthGuard as the CAMARA
 *   APIs (same JWKS, issuer, audience, algorithms).
 * Anything else: 401 UNAUTHENTICATED / 403 PERMISSION_DENIED (CAMARA ErrorInfo). Routes using it are
 * marked `@Public()` so the global AuthGuard lets the admin token through to here.
 */
@Injectable()
export class DashboardAccessGuard implements CanActivate {
  private readonly jwt: AuthGuard;

  constructor(
    reflector: Reflector,
    private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) logger: RootLogger,
  ) {
    // NOTE: a private AuthGuard instance, so JWTs go through exactly the API's verification path
    // (AuthGuard does not export its verify step). It has its own JWKS cache.
    this.jwt = new AuthGuard(reflector, config, logger);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<HttpRequestLike>();
    const header = req.headers.authorization;
    const value = Array.isArray(header) ? header[0] : header;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(value ?? '')?.[1];
    if (!bearer) {
      throw unauthenticated(`The dashboard needs Authorization: Bearer <ADMIN_TOKEN>, or a Bearer access token with scope ${DASHBOARD_SCOPE}.`);
    }
    if (isAdminToken(bearer, this.config.admin.token)) return true;
    // The handler is only a key for the Reflector's metadata lookup; it is never called.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const host = new ExecutionContextHost([req, ctx.switchToHttp().getResponse<unknown>()], DashboardOperation, DashboardOperation.prototype.read);
    host.setType(ctx.getType());
    return this.jwt.canActivate(host);
  }
}

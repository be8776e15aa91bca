import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { errors as joseErrors, jwtVerify, JWTVerifyGetKey } from 'jose';
import { AppConfig } from '../../config/app-config';
import { ApiError, unauthenticated } from '../errors/api-error';
import type { FastifyRequest } from 'fastify';
import { requestLoggerOf } from '../logging/request-logger';
import { ROOT_LOGGER, RootLogger } from '../logging/root-logger';
import { jwksKeySource } from './jwks-key-source';
import type { Principal } from './principal';
import { PUBLIC_KEY, requireScopes, SCOPES_KEY } from './scopes.decorator';

/**
 * Verified tokens, by their exact text: an app sends the same access token with every request,
 * and an ES256/RS256 verification costs far more than the rest of a request. An entry lives until
 * the token's `exp`, at most VERIFIED_TTL_MS (so a key removed from the JWKS stops working
 * within that time), and the cache is bounded (oldest first out).
 */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

/** Asymmetric algorithms only: never `none`, never HS* (a shared secret would let any holder mint tokens). */
const ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'];
/** CAMARA PhoneNumber: a `phone_number` claim of another shape binds the token to no subscriber. */
const E164 = /^\+[1-9][0-9]{4,14}$/;

/**
 * Verifies the Bearer JWT (CAMARA security profile) and the operation's scopes.
 * 401 UNAUTHENTICATED for a missing/expired/badly signed token or a wrong issuer/audience;
 * 403 PERMISSION_DENIED for a missing scope.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly getKey: JWTVerifyGetKey | undefined;
  private static warned = false;
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  /** the cache's bound (a field so that a test can lower it) */
  private readonly verifiedMax: number = VERIFIED_MAX;

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
  ) {
    this.getKey = config.auth.jwksUrl ? jwksKeySource(config.auth.jwksUrl) : undefined;
    if (!this.getKey && !AuthGuard.warned) {
      AuthGuard.warned = true;
      logger.warn('AUTH_JWKS_URL is not set: every API request will be refused with 401');
    }
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const principal = await this.verify(req.headers.authorization, () => requestLoggerOf(req, this.logger));
    req.principal = principal;
    requireScopes(principal, this.reflector.getAllAndOverride<string[]>(SCOPES_KEY, targets) ?? []);
    return true;
  }

  /** Refuses tokens that live longer than AUTH_MAX_TOKEN_LIFETIME_S (from `iat`, or from now without one). */
  private checkLifetime(exp: number | undefined, iat: number | undefined, now: number): void {
    const from = typeof iat === 'number' ? iat : Math.floor(now / 1000);
    if (typeof exp === 'number' && exp - from > this.config.auth.maxTokenLifetimeS) {
      throw unauthenticated(`The access token lives longer than the ${this.config.auth.maxTokenLifetimeS} s this gateway accepts.`);
    }
  }

  private async verify(header: string | string[] | undefined, log: () => RootLogger): Promise<Principal> {
    const value = Array.isArray(header) ? header[0] : header;
    const match = /^Bearer ([A-Za-z0-9_.~+/-]+=*)$/i.exec(value ?? '');
    if (!match?.[1]) throw unauthenticated('Missing or malformed Authorization header: a Bearer access token is required.');
    if (!this.getKey) throw unauthenticated('No token signing keys are configured on this gateway (AUTH_JWKS_URL).');
    const now = Date.now();
    const cached = this.verified.get(match[1]);
    if (cached) {
      if (cached.until > now) return cached.principal;
      this.verified.delete(match[1]);
    }
    try {
      const { payload } = await jwtVerify(match[1], this.getKey, {
        algorithms: ALGORITHMS,
        issuer: this.config.auth.issuer,
        audience: this.config.auth.audience,
        // A token without `exp` would never expire: refused (401).
        requiredClaims: ['exp'],
      });
      this.checkLifetime(payload.exp, payload.iat, now);
      const scope = typeof payload.scope === 'string' ? payload.scope : '';
      const phone = typeof payload.phone_number === 'string' ? payload.phone_number : undefined;
      const principal: Principal = { subject: payload.sub, phoneNumber: phone !== undefined && E164.test(phone) ? phone : undefined, scopes: new Set(scope.split(' ').filter((s) => s !== '')) };
      const until = Math.min(now + VERIFIED_TTL_MS, typeof payload.exp === 'number' ? payload.exp * 1000 : now);
      if (until > now) {
        if (this.verified.size >= this.verifiedMax) this.verified.delete(this.verified.keys().next().value as string);
        this.verified.set(match[1], { principal, until });
      }
      return principal;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw unauthenticated('The access token has expired.');
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'exp') throw unauthenticated('The access token has no expiry (exp claim).');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw unauthenticated(`The access token is not valid here (${err.claim} claim).`);
      if (err instanceof joseErrors.JOSEError) throw unauthenticated('The access token could not be verified.');
      log().warn({ err }, 'token verification failed (key source)');
      throw unauthenticated('The access token could not be verified.');
    }
  }
}

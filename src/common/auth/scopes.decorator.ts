import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiError } from '../errors/api-error';
import type { Principal } from './principal';

export const SCOPES_KEY = 'camara:scopes';
export const PUBLIC_KEY = 'camara:public';

/**
 * The scopes an operation requires, named as in its `security` section of the CAMARA spec.
 * Every listed scope is required. Operations whose scope depends on the body (webrtc-events'
 * per-type create scopes) check them in the service via `requireScopes`.
 */
export const Scopes = (...scopes: string[]): MethodDecorator & ClassDecorator => SetMetadata(SCOPES_KEY, scopes);

/** No bearer token needed (health, metrics, docs). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);

/** The verified caller, set by the AuthGuard. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!req.principal) throw new ApiError(401, 'UNAUTHENTICATED', 'Request not authenticated.');
  return req.principal;
});

export function requireScopes(principal: Principal, scopes: readonly string[]): void {
  const missing = scopes.filter((s) => !principal.scopes.has(s));
  if (missing.length > 0) {
    throw new ApiError(403, 'PERMISSION_DENIED', `Client does not have sufficient permissions to perform this action (missing scope ${missing.join(', ')}).`);
  }
}

/** The token's phone number, or 403 when the token is not bound to a subscriber. */
export function requirePhoneNumber(principal: Principal): string {
  if (!principal.phoneNumber) {
    throw new ApiError(403, 'INVALID_TOKEN_CONTEXT', 'The access token is not bound to a phone number (phone_number claim).');
  }
  return principal.phoneNumber;
}

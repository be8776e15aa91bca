import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { bodyErrorOf } from './json-body';

/**
 * Throws the body-parsing failure kept by `installJsonBodyParser`. Registered after `AuthGuard`,
 * so 401/403 are decided before any body error (CAMARA: a bad token is reported as such).
 */
@Injectable()
export class BodyErrorGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const err = bodyErrorOf(ctx.switchToHttp().getRequest<FastifyRequest>().raw);
    if (err) throw err;
    return true;
  }
}

import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type Redis from 'ioredis';
import type { AppConfig } from '../../config/app-config';
import { TooManyRequestsError } from '../errors/api-error';
import type { LimitName, LimitTelemetry } from '../limits/limit-telemetry';

/** Operational endpoints are never rate limited (probes and scrapers poll them). */
const EXEMPT = /^\/(?:health|metrics)(?:[/?]|$)/;

/** The bearer token's hash (never the token itself: keys end up in Redis). */
export function tokenKey(req: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1] ? createHash('sha256').update(match[1]).digest('base64url').slice(0, 32) : undefined;
}

type Check = (req: FastifyRequest) => Promise<{ isAllowed: boolean; isExceeded: boolean; ttlInSeconds: number }>;
interface Limiter {
  name: LimitName;
  check: Check;
}

/**
 * Request rates per access token and per client address (@fastify/rate-limit), counted in Redis
 * when the gateway uses Redis so that the limit holds across instances. Checked in `onRequest`,
 * before the body is read. Beyond a limit: 429 TOO_MANY_REQUESTS with Retry-After. A store
 * error lets the request through (the store's outage is reported by the request itself).
 */
export async function installRateLimits(fastify: FastifyInstance, config: AppConfig, redis: Redis | null, telemetry: LimitTelemetry | undefined, prefix = ''): Promise<void> {
  const { perToken, perAddress, windowS } = config.limits;
  if (perToken === 0 && perAddress === 0) return;
  await fastify.register(rateLimit, { global: false, skipOnError: true, timeWindow: windowS * 1000, nameSpace: `${prefix}rl:`, ...(redis && { redis }) });
  const limiters: Limiter[] = [];
  const create = (max: number, keyGenerator: (req: FastifyRequest) => string): Check => fastify.createRateLimit({ max, timeWindow: windowS * 1000, keyGenerator }) as Check;
  if (perAddress > 0) limiters.push({ name: 'requests-per-address', check: create(perAddress, (req) => `a:${req.ip}`) });
  if (perToken > 0) limiters.push({ name: 'requests-per-token', check: create(perToken, (req) => `t:${tokenKey(req) ?? `none:${req.ip}`}`) });
  fastify.addHook('onRequest', async (req) => {
    if (EXEMPT.test(req.url)) return;
    // both counters at once: sent in the same tick and awaited together, not one after the other
    const applicable = limiters.filter(({ name }) => name !== 'requests-per-token' || tokenKey(req) !== undefined);
    const results = await Promise.all(applicable.map(({ check }) => check(req)));
    applicable.forEach(({ name }, i) => {
      const result = results[i];
      if (result && !result.isAllowed && result.isExceeded) {
        telemetry?.limitRefused(name);
        throw new TooManyRequestsError(`Too many requests (${name.replace(/-/g, ' ')}); retry later.`, result.ttlInSeconds);
      }
    });
  });
}

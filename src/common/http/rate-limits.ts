import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import type Redis from 'ioredis';
import type { AppConfig } from '../../config/app-config';
import { TooManyRequestsError } from '../errors/api-error';
import type { LimitName, LimitTelemetry } from '../limits/limit-telemetry';

/** Operational endpoints are never rate limited (probes and scrapers poll them). */
const EXEMPT = /^\/(?:health|metrics)(?:[/?]|$)/;

/**
 * How many client addresses (or, without Redis, tokens) one instance's in-memory counters remember:
 * the LRU `cache` of @fastify/rate-limit's local store. An entry is about 100 bytes, so memory stays
 * near 1 MB whatever a flood of spoofed-looking addresses does. The least recently seen address is
 * forgotten first: a client that keeps sending stays counted, and only a client spread over more
 * than 10 000 addresses (which no per-address limit stops anyway) has its older counts dropped.
 */
const LOCAL_CACHE_ENTRIES = 10_000;

/** The bearer token's hash (never the token itself: keys end up in Redis). */
export function tokenKey(req: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1] ? createHash('sha256').update(match[1]).digest('base64url').slice(0, 32) : undefined;
}

type Check = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * How long a request waits for its per-token count from Redis before it is let through, as on a
 * store error. The count takes a few ms; a store that answers nothing (a frozen master, a
 * partition) would otherwise hold every request for the client's 2 s command timeout before the
 * request meets the same store again. A late count is still applied to the window.
 */
export const TOKEN_COUNT_WAIT_MS = 500;

type CheckResult = Awaited<ReturnType<Check>>;

/** `check`'s result, or a pass once `ms` have gone by without one. */
async function withinWait(check: Promise<CheckResult>, ms: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const pass = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ isAllowed: true, key: '' }), ms);
  });
  try {
    return await Promise.race([check, pass]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One counter with a store of its own: @fastify/rate-limit registered in an encapsulated context,
 * so that its `createRateLimit` counts in Redis when `options.redis` is given and in the library's
 * in-memory LRU store otherwise.
 */
async function limiter(fastify: FastifyInstance, options: RateLimitPluginOptions): Promise<Check> {
  let check: Check | undefined;
  await fastify.register(async (scope) => {
    await scope.register(rateLimit, { global: false, skipOnError: true, cache: LOCAL_CACHE_ENTRIES, ...options });
    check = scope.createRateLimit();
  });
  if (!check) throw new Error('@fastify/rate-limit did not provide createRateLimit');
  return check;
}

/**
 * Request rates (@fastify/rate-limit), checked in `onRequest` before the body is read. Beyond a
 * limit: 429 TOO_MANY_REQUESTS with Retry-After.
 * - Per client address: counted in this instance's memory (an IPv6 client per /64, the library's
 *   default key), and checked first, so a flood from one address costs no Redis round trip.
 * - Per access token: the client's quota, counted in Redis when the gateway uses Redis so that it
 *   holds across instances. A store error, or no count within TOKEN_COUNT_WAIT_MS, lets the
 *   request through (the store's outage is reported by the request itself).
 */
export async function installRateLimits(fastify: FastifyInstance, config: AppConfig, redis: Redis | null, telemetry: LimitTelemetry | undefined, prefix = ''): Promise<void> {
  const { perToken, perAddress, windowS } = config.limits;
  if (perToken === 0 && perAddress === 0) return;
  const timeWindow = windowS * 1000;
  const byAddress = perAddress > 0 ? await limiter(fastify, { max: perAddress, timeWindow }) : undefined;
  const byToken =
    perToken > 0
      ? await limiter(fastify, { max: perToken, timeWindow, nameSpace: `${prefix}rl:`, keyGenerator: (req) => `t:${tokenKey(req) ?? `none:${req.ip}`}`, ...(redis && { redis }) })
      : undefined;
  const refuseBeyond = (name: LimitName, result: CheckResult): void => {
    if (result.isAllowed || !result.isExceeded) return;
    telemetry?.limitRefused(name);
    throw new TooManyRequestsError(`Too many requests (${name.replace(/-/g, ' ')}); retry later.`, result.ttlInSeconds);
  };
  fastify.addHook('onRequest', async (req) => {
    if (EXEMPT.test(req.url)) return;
    if (byAddress) refuseBeyond('requests-per-address', await byAddress(req));
    if (byToken && tokenKey(req) !== undefined) refuseBeyond('requests-per-token', await withinWait(byToken(req), TOKEN_COUNT_WAIT_MS));
  });
}

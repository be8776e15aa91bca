import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { correlatorOf } from '../http/correlator';
import type { RootLogger } from './root-logger';

/** A request slower than this (ms, until the response is written) gets an `info` line; others a `debug` one. */
export const SLOW_REQUEST_MS = 1000;

const ROOT = 'camaraRootLogger';
const PROBES = /^\/(health|metrics)/;

type WithLog = IncomingMessage & { requestLog?: RootLogger };

/**
 * The request's logger: a child of the root logger carrying the request's `correlator`, made on
 * first use and kept on the request. Code serving a request gets it as a parameter (controllers
 * through `@RequestLog()`) and passes it down, so every line it writes names the request, with no
 * per-request async context.
 */
export function requestLoggerOf(req: FastifyRequest, fallback?: RootLogger): RootLogger {
  const raw = req.raw as WithLog | undefined;
  if (raw?.requestLog !== undefined) return raw.requestLog;
  const root = (req.server as unknown as Record<string, RootLogger | undefined> | undefined)?.[ROOT] ?? fallback;
  if (root === undefined) throw new Error('installRequestLogging() was not called on this Fastify instance');
  // Without the raw request (a request object made by hand) there is no correlator to add.
  if (raw === undefined) return root;
  raw.requestLog = root.child({ correlator: correlatorOf(raw) });
  return raw.requestLog;
}

/** Controller parameter: the request's logger (see requestLoggerOf). */
export const RequestLog = createParamDecorator((_: unknown, ctx: ExecutionContext): RootLogger => requestLoggerOf(ctx.switchToHttp().getRequest<FastifyRequest>()));

function accessLine(root: RootLogger, req: FastifyRequest, reply: FastifyReply): void {
  const statusCode = reply.statusCode;
  const ms = reply.elapsedTime;
  // 500 is a bug (its cause is logged with the stack where it was caught); 502-504 are the network or the store being away.
  const level = statusCode === 500 ? 'error' : statusCode >= 500 ? 'warn' : ms >= SLOW_REQUEST_MS ? 'info' : 'debug';
  if (!root.isLevelEnabled(level) || PROBES.test(req.url)) return;
  root[level]({ correlator: correlatorOf(req.raw), method: req.method, url: req.url, statusCode, responseTimeMs: Math.round(ms) }, level === 'info' ? 'slow request' : 'request completed');
}

/**
 * Makes requestLoggerOf work on this instance, and writes one line per response: `debug`, or
 * `info` for a request slower than SLOW_REQUEST_MS, `warn`/`error` for a 5xx. Health and metrics
 * probes are not logged.
 */
export function installRequestLogging(fastify: FastifyInstance, root: RootLogger): void {
  fastify.decorate(ROOT, root);
  fastify.addHook('onResponse', (req, reply, done) => {
    accessLine(root, req, reply);
    done();
  });
}

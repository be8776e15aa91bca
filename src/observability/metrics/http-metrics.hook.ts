import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayMetrics } from './gateway-metrics';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The operation label of a request: method and route *pattern*
 * (`PUT /webrtc-call-handling/v0.4/sessions/:mediaSessionId/status`), never the raw URL, so ids do
 * not become series. Requests that matched no route share `unmatched`.
 */
export function operationOf(req: Pick<FastifyRequest, 'method'> & { routeOptions: { url?: string | undefined } }): string {
  const method = METHODS.has(req.method) ? req.method : 'OTHER';
  const pattern = req.routeOptions.url;
  return pattern === undefined || pattern === '' || pattern === '*' ? `${method} unmatched` : `${method} ${pattern}`;
}

/**
 * Times every HTTP request in a Fastify `onResponse` hook (so 404s, body-parser errors and
 * guard refusals are measured too, not only what reaches a controller).
 */
@Injectable()
export class HttpMetricsHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: GatewayMetrics,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter as { getInstance?: () => unknown } | undefined;
    const instance = adapter?.getInstance?.() as FastifyInstance | undefined;
    if (!instance || typeof instance.addHook !== 'function') return; // not Fastify (a unit test without HTTP)
    instance.addHook('onResponse', async (req, reply) => {
      this.metrics.httpRequest(operationOf(req), reply.statusCode, reply.elapsedTime);
    });
  }
}

import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../../common/auth/scopes.decorator';
import { GatewayMetrics } from './gateway-metrics';

/**
 * Prometheus scrape endpoint. Public (no bearer): Prometheus scrapes it on the internal network.
 * Do not route `/metrics` through the public ingress (see docs/monitoring.md).
 */
@Controller('metrics')
@Public()
export class MetricsController {
  constructor(private readonly metrics: GatewayMetrics) {}

  @Get()
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const body = await this.metrics.scrape();
    void reply.header('content-type', this.metrics.contentType).header('cache-control', 'no-store');
    return body;
  }
}

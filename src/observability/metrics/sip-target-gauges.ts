import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { SipGateway } from '../../sip/sip-gateway';
import { GatewayMetrics } from './gateway-metrics';

/**
 * The outbound proxy's RFC 3263 targets on `/metrics`, read from the SIP port at scrape time:
 * `gateway_sip_target_up` (1 up, 0 down, absent while unknown) and
 * `gateway_sip_target_failures_total` by kind. The `target` label is an `address:port` from the
 * operator's own DNS, so the label set stays small.
 */
@Injectable()
export class SipTargetGauges implements OnModuleInit {
  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly sip: SipGateway,
  ) {}

  onModuleInit(): void {
    const sip = this.sip;
    const registers = [this.metrics.registry];
    new Gauge({
      name: 'gateway_sip_target_up',
      help: 'Outbound proxy targets (RFC 3263: P-CSCF addresses from DNS): 1 answering, 0 down (timeout, transport error, 503 with Retry-After).',
      labelNames: ['target', 'name', 'transport'],
      registers,
      collect() {
        this.reset();
        for (const t of sip.outboundTargets()) if (t.state !== 'unknown') this.set({ target: t.target, name: t.name, transport: t.transport }, t.state === 'up' ? 1 : 0);
      },
    });
    new Counter({
      name: 'gateway_sip_target_failures_total',
      help: 'Failures of outbound proxy targets seen by requests and OPTIONS probes, by kind (timeout, transport, unavailable = 503).',
      labelNames: ['target', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const t of sip.outboundTargets()) for (const [kind, n] of Object.entries(t.failures)) this.inc({ target: t.target, kind }, n);
      },
    });
  }
}

import { Controller, Get, HttpStatus, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../../common/auth/scopes.decorator';
import { Cluster } from '../../cluster/cluster';
import { OutboundTargetStatus, SipGateway } from '../../sip/sip-gateway';
import { RegistrationStore } from '../../store/registration-store';
import { withTimeout } from '../metrics/with-timeout';
import { SipProxyProbe } from './sip-proxy.probe';

/** A readiness check of the store must be cheap and must not hang. */
export const STORE_CHECK_TIMEOUT_MS = 1000;

/**
 * Liveness and readiness (Kubernetes probes, load balancers).
 *
 * - `/health/live`: the process serves HTTP. Nothing external is checked: restarting the gateway
 *   does not fix Redis or the P-CSCF.
 * - `/health/ready`: it can take traffic: the store answers, the SIP socket is bound and the
 *   outbound proxy answered our last OPTIONS (cached, see SipProxyProbe). 503 names what failed.
 *   `sipTargets` lists each RFC 3263 target of the proxy (up, down with its last error, unknown);
 *   it is down only when every target is down (no address at all fails `sipProxy` already).
 */
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly registrations: RegistrationStore,
    private readonly sip: SipGateway,
    private readonly probe: SipProxyProbe,
    private readonly cluster: Cluster,
  ) {}

  @Get('live')
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.checkDrain(), () => this.checkStore(), () => this.checkSipSocket(), () => this.checkSipProxy(), ...this.sipTargetChecks()]);
    } catch (err) {
      // Terminus throws 503 with its report; answer with the report itself (not CAMARA ErrorInfo:
      // probes and operators read which part failed).
      if (err instanceof ServiceUnavailableException) {
        void reply.status(HttpStatus.SERVICE_UNAVAILABLE).header('cache-control', 'no-store');
        return err.getResponse() as HealthCheckResult;
      }
      throw err;
    }
  }

  private async checkStore(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('store');
    const started = performance.now();
    try {
      await withTimeout(this.registrations.count(), STORE_CHECK_TIMEOUT_MS, 'the state store');
      return check.up({ latencyMs: Math.round(performance.now() - started) });
    } catch (err) {
      return check.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }

  /** SIGTERM: not ready at once, so the load balancer stops sending while calls are handed over. */
  private checkDrain(): HealthIndicatorResult {
    const check = this.indicator.check('instance');
    return this.cluster.draining ? check.down({ message: 'draining: shutting down, sessions handed over' }) : check.up({ id: this.cluster.instanceId });
  }

  private checkSipSocket(): HealthIndicatorResult {
    const check = this.indicator.check('sipSocket');
    return this.sip.isListening() ? check.up() : check.down({ message: 'the SIP socket is not bound' });
  }

  private sipTargetChecks(): Array<() => HealthIndicatorResult> {
    const targets = this.sip.outboundTargets();
    return targets.length > 0 ? [() => this.checkSipTargets(targets)] : [];
  }

  private checkSipTargets(status: OutboundTargetStatus[]): HealthIndicatorResult {
    const check = this.indicator.check('sipTargets');
    const targets = status.map((t) => ({
      target: t.target,
      name: t.name,
      transport: t.transport,
      state: t.state,
      ...(t.lastError !== undefined && { lastError: t.lastError }),
      since: new Date(t.since).toISOString(),
    }));
    return targets.some((t) => t.state !== 'down') ? check.up({ targets }) : check.down({ message: 'every outbound proxy target is down', targets });
  }

  private checkSipProxy(): HealthIndicatorResult {
    const check = this.indicator.check('sipProxy');
    const s = this.probe.status();
    if (!s) return check.down({ message: 'no OPTIONS answered yet (first probe pending)' });
    const checkedAt = new Date(s.checkedAt).toISOString();
    return s.ok ? check.up({ optionsStatus: s.code, rttMs: s.rttMs, checkedAt }) : check.down({ message: `the outbound proxy does not answer SIP OPTIONS: ${s.error ?? 'unknown error'}`, checkedAt });
  }
}

import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SipModule } from '../sip/sip.module';
import { SIP_TELEMETRY } from '../sip/sip-telemetry';
import { EVENT_TELEMETRY } from '../events/event-metrics';
import { CALL_TELEMETRY } from '../sessions/call-telemetry';
import { REGISTRATION_TELEMETRY } from '../registrations/registration-telemetry';
import { STORE_TELEMETRY } from '../store/store-telemetry';
import { LIMIT_TELEMETRY } from '../common/limits/limit-telemetry';
import { EventsModule } from '../events/events.module';
import { DashboardAccessGuard } from './dashboard/dashboard-access.guard';
import { DashboardController } from './dashboard/dashboard.controller';
import { HealthController } from './health/health.controller';
import { SipProxyProbe } from './health/sip-proxy.probe';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { HttpMetricsHook } from './metrics/http-metrics.hook';
import { MetricsController } from './metrics/metrics.controller';
import { StoreGauges } from './metrics/store-gauges';
import { SipTargetGauges } from './metrics/sip-target-gauges';
import { OpenApiController } from './openapi/openapi.controller';

/** The telemetry interfaces other modules declare (and inject optionally); GatewayMetrics implements each. */
const TELEMETRY_TOKENS = [SIP_TELEMETRY, EVENT_TELEMETRY, CALL_TELEMETRY, REGISTRATION_TELEMETRY, STORE_TELEMETRY, LIMIT_TELEMETRY];

/**
 * Call-setup observability: Prometheus metrics (`/metrics`), health (`/health/live`,
 * `/health/ready`), the live dashboard (`/dashboard`) and the API description (`/openapi.json`,
 * `/docs`). Global: other modules inject the telemetry interface they declare (SIP_TELEMETRY,
 * EVENT_TELEMETRY, CALL_TELEMETRY, REGISTRATION_TELEMETRY, STORE_TELEMETRY, LIMIT_TELEMETRY), never GatewayMetrics.
 *
 * Needs, from global modules: AppConfig, ROOT_LOGGER, Clock, RegistrationStore, SessionStore; SipGateway via SipModule.
 */
@Global()
@Module({
  // Terminus logs every failed check at error level; readiness is polled every few seconds, so
  // SipProxyProbe logs state changes instead.
  // SipModule is a static module: importing it shares the app's one SipGateway instance.
  imports: [TerminusModule.forRoot({ logger: false }), SipModule, EventsModule],
  controllers: [MetricsController, HealthController, DashboardController, OpenApiController],
  providers: [
    GatewayMetrics,
    ...TELEMETRY_TOKENS.map((token) => ({ provide: token, useExisting: GatewayMetrics })),
    StoreGauges,
    SipTargetGauges,
    HttpMetricsHook,
    SipProxyProbe,
    DashboardAccessGuard,
  ],
  exports: [GatewayMetrics, ...TELEMETRY_TOKENS],
})
export class ObservabilityModule {}

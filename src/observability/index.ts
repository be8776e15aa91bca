export { ObservabilityModule } from './observability.module';
export { GatewayMetrics } from './metrics/gateway-metrics';
export type {
  CallDirection,
  SipDirection,
  EventDeliveryOutcome,
  EventDropReason,
  RegistrationRefreshFailure,
  SipTransportErrorKind,
  CallFailure,
  CallSetupSnapshot,
} from './metrics/gateway-metrics';
export { DASHBOARD_SCOPE, DashboardAccessGuard, isAdminToken } from './dashboard/dashboard-access.guard';
export { buildOpenApiDocument } from './openapi/openapi-document';

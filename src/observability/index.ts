export { ObservabilityModule } from './observability.module';
export { GatewayMetrics } from './metrics/gateway-metrics';
export type {
  CallDirection,
  SipDirection,
  EventDeliveryOutcome,
  EventDropReason,
  RegistrationRefreshFailure,
  SipTransportErrorKind,
  StoreOperationSink,
  CallFailure,
  CallSetupSnapshot,
} from './metrics/gateway-metrics';
export { instrumentStore } from './metrics/instrument-store';
export { DASHBOARD_SCOPE, DashboardAccessGuard, isAdminToken } from './dashboard/dashboard-access.guard';
export { buildOpenApiDocument } from './openapi/openapi-document';

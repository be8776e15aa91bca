/**
 * What the stores report for monitoring (implemented by the observability module's
 * GatewayMetrics). `store` and `operation` are code names (`session`, `update`), never ids.
 */
export interface StoreTelemetry {
  storeOperation(store: string, operation: string, durationMs: number, failed: boolean): void;
}

/** Optional DI token for a StoreTelemetry: without one, the stores are not instrumented. */
export const STORE_TELEMETRY = Symbol('STORE_TELEMETRY');

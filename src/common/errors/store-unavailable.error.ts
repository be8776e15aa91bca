/** Thrown by a store when its backend (Redis) cannot be reached; rendered as 503 UNAVAILABLE. */
export class StoreUnavailableError extends Error {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`state store unavailable during ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StoreUnavailableError';
  }
}

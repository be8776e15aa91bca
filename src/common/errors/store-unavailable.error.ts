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

/** Redis did not answer at boot and REDIS_BOOT=exit: the process exits with EX_UNAVAILABLE (69). */
export class StoreUnreachableAtBootError extends Error {
  readonly exitCode = 69;
  /** `where`: the variable and its value, password hidden (e.g. `REDIS_URL=redis://:***@host:6379`). */
  constructor(where: string, reason: string) {
    super(`Redis at ${where} is unreachable (${reason}). Check ${where.split('=')[0] ?? 'REDIS_URL'}, or set REDIS_BOOT=retry to start anyway and stay not-ready until Redis answers.`);
    this.name = 'StoreUnreachableAtBootError';
  }
}

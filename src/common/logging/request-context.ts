import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while serving a request carries (see the root logger's mixin). */
export interface RequestContext {
  correlator: string;
}

/** Set by the HTTP layer when a request arrives; read by the logger. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

/** pino mixin: the current request's correlator, when there is one. */
export function requestMixin(): Record<string, string> {
  const ctx = requestContext.getStore();
  return ctx ? { correlator: ctx.correlator } : {};
}

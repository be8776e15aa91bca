import type { StoreTelemetry } from './store-telemetry';

/**
 * Wraps a store so that every method call is timed and every failure counted, by store and
 * operation (method name), without touching the store's code:
 *
 *   useFactory: (redis, telemetry: StoreTelemetry) => instrumentStore(new RedisSessionStore(redis), 'session', telemetry)
 *
 * A method returning a promise is measured until it settles (a rejection counts as an error: this
 * is how "Redis is down" shows up); a synchronous method is measured as is, a throw counts as an
 * error. The error is always re-thrown unchanged. `instanceof` still holds (the proxy keeps the
 * prototype), and methods run with the real store as `this` (private fields keep working).
 */
export function instrumentStore<T extends object>(store: T, name: string, telemetry: StoreTelemetry): T {
  const wrapped = new Map<PropertyKey, { fn: unknown; timed: unknown }>();
  return new Proxy(store, {
    get(target, prop, receiver): unknown {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop === 'symbol' || prop === 'constructor') return value;
      const cached = wrapped.get(prop);
      if (cached?.fn === value) return cached.timed; // re-wrapped if the method was replaced (test spies)
      const fn = value as (...args: unknown[]) => unknown;
      const operation = prop;
      const timed = function (this: unknown, ...args: unknown[]): unknown {
        const started = performance.now();
        const done = (failed: boolean): void => telemetry.storeOperation(name, operation, performance.now() - started, failed);
        let result: unknown;
        try {
          result = fn.apply(target, args);
        } catch (err) {
          done(true);
          throw err;
        }
        if (isPromiseLike(result)) {
          return result.then(
            (v) => {
              done(false);
              return v;
            },
            (err: unknown) => {
              done(true);
              throw err;
            },
          );
        }
        done(false);
        return result;
      };
      Object.defineProperty(timed, 'name', { value: fn.name });
      wrapped.set(prop, { fn: value, timed });
      return timed;
    },
  });
}

function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

import { isIP } from 'node:net';
import type { Pool } from 'undici';
import { SinkPolicy, SinkRejectedError } from './sink-address';
import { DEFAULT_SINK_POOL_OPTIONS, SinkPoolOptions, SinkPools } from './sink-pools';

/**
 * Why an attempt did not deliver, classified where the error is known (here, not from reason
 * strings later). The values are the `outcome` labels of the attempt metric (`EventTelemetry`).
 */
export type RetryableFailure = 'http_error' | 'network_error' | 'timeout';
export type PermanentFailure = 'http_error' | 'refused';

/** What happened to one POST to a sink. `reason` is for logs only. */
export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  /** 410 Gone: the consumer withdrew the sink; the subscription ends (NETWORK_TERMINATED). */
  | { kind: 'gone' }
  /** Worth trying again: network error, timeout, 408, 425, 429, 5xx. `retryAfterMs` from `Retry-After`. */
  | { kind: 'retry'; failure: RetryableFailure; reason: string; status?: number; retryAfterMs?: number }
  /** Retrying cannot help (other 4xx, forbidden address). */
  | { kind: 'reject'; failure: PermanentFailure; reason: string; status?: number };

export interface SinkRequest {
  sink: string;
  /** Serialized CloudEvent (once per event: the worker keeps it for the retries). */
  body: string;
  correlator: string;
  /** Sent as `Authorization: Bearer …`; never logged. */
  bearerToken?: string;
}

/** The transport events are POSTed with; the delivery worker depends on this, tests fake it. */
export abstract class SinkTransport {
  abstract post(req: SinkRequest): Promise<DeliveryOutcome>;
  abstract close(): Promise<void>;
}

/** `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date; ms from `now`, undefined if absent or bad. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Maps a sink's HTTP status to an outcome. */
export function classifyStatus(status: number, retryAfterMs: number | undefined): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 410) return { kind: 'gone' };
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    return { kind: 'retry', failure: 'http_error', reason: `sink answered ${status}`, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  return { kind: 'reject', failure: 'http_error', reason: `sink answered ${status}`, status };
}

function rejectedCause(err: unknown): SinkRejectedError | undefined {
  for (let e: unknown = err, i = 0; e instanceof Error && i < 5; e = e.cause, i++) {
    if (e instanceof SinkRejectedError) return e;
  }
  return undefined;
}

/** undici's connect/headers/body timeouts (`UND_ERR_*_TIMEOUT`, `ConnectTimeoutError`…). */
function isTimeout(e: Error, code: unknown): boolean {
  return e.name === 'TimeoutError' || e.name.endsWith('TimeoutError') || (typeof code === 'string' && code.endsWith('_TIMEOUT'));
}

/** Bytes of a sink's response body read (and discarded) before its connection is closed instead. */
const MAX_DRAINED_BODY = 64 * 1024;

/**
 * One POST through undici's `dispatch`. The outcome is known from the status line and headers, so
 * it resolves there: a sink that trickles its response body cannot hold the delivery (the pool's
 * body timeout only bounds the gap between chunks). The body is discarded as it arrives, and a
 * connection whose body exceeds MAX_DRAINED_BODY is closed instead of kept for reuse.
 */
function postOnce(pool: Pool, path: string, headers: Record<string, string>, body: string, now: () => number): Promise<DeliveryOutcome> {
  return new Promise((resolve, reject) => {
    let drained = 0;
    pool.dispatch(
      { path, method: 'POST', headers, body },
      {
        onRequestStart() {
          // nothing to set up: the pool's timeouts bound the request
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          if (statusCode < 200) return; // RFC 9110 §15.2: an interim response; the final one follows
          resolve(classifyStatus(statusCode, parseRetryAfter(responseHeaders['retry-after'], now())));
        },
        onResponseData(controller, chunk) {
          drained += chunk.length;
          if (drained > MAX_DRAINED_BODY) controller.abort(new Error('sink response body too large'));
        },
        onResponseEnd() {
          // resolved with the headers already
        },
        onResponseError(_controller, err) {
          reject(err); // no effect once resolved: an error in the body after the status is known
        },
      },
    );
  });
}

/**
 * POSTs CloudEvents with undici, one kept-alive `Pool` per sink origin (`SinkPools`). Timeouts
 * (connect, response headers, response body) are the pools' own, so a POST arms no timer of its
 * own. Each new connection resolves the sink host through the SinkPolicy in the connector's
 * `lookup`, so the socket goes to exactly the address that was checked (no DNS-rebinding window
 * between the check and the connect); literal IPs never reach `lookup` and are checked on every
 * POST.
 */
export class UndiciSinkTransport extends SinkTransport {
  private readonly pools: SinkPools;

  constructor(
    private readonly policy: SinkPolicy,
    timeoutMs = DEFAULT_SINK_POOL_OPTIONS.timeoutMs,
    private readonly now: () => number = Date.now,
    pooling: Partial<Omit<SinkPoolOptions, 'timeoutMs'>> = {},
  ) {
    super();
    this.pools = new SinkPools(policy, { ...DEFAULT_SINK_POOL_OPTIONS, ...pooling, timeoutMs }, now);
  }

  /** Sink origins with an open pool (tests, metrics). */
  get openPools(): number {
    return this.pools.size;
  }

  /** Closes the pools idle for their `idleMs` (also done by a timer); returns how many. */
  closeIdlePools(): number {
    return this.pools.sweep();
  }

  async post(req: SinkRequest): Promise<DeliveryOutcome> {
    let url: URL;
    try {
      url = this.policy.parse(req.sink);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) !== 0) await this.policy.resolveAllowed(host);
    } catch (err) {
      return { kind: 'reject', failure: 'refused', reason: err instanceof Error ? err.message : String(err) };
    }
    const headers: Record<string, string> = {
      'content-type': 'application/cloudevents+json',
      'x-correlator': req.correlator,
    };
    if (req.bearerToken !== undefined) headers.authorization = `Bearer ${req.bearerToken}`;
    try {
      const path = `${url.pathname}${url.search}`;
      return await this.pools.use(url.origin, (pool) => postOnce(pool, path, headers, req.body, this.now));
    } catch (err) {
      const rejected = rejectedCause(err);
      // A name that does not resolve (yet) is worth retrying; a forbidden address is not.
      if (rejected) return rejected.transient ? { kind: 'retry', failure: 'network_error', reason: rejected.message } : { kind: 'reject', failure: 'refused', reason: rejected.message };
      const e = err instanceof Error ? err : new Error(String(err));
      const code = (e as { code?: unknown }).code;
      const reason = `${e.name}${typeof code === 'string' ? ` ${code}` : ''}: ${e.message}`;
      return { kind: 'retry', failure: isTimeout(e, code) ? 'timeout' : 'network_error', reason };
    }
  }

  close(): Promise<void> {
    return this.pools.close();
  }
}

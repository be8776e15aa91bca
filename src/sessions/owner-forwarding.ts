import type { Principal } from '../common/auth/principal';
import { ApiError, RetryLaterError } from '../common/errors/api-error';
import { X_CORRELATOR_PATTERN } from '../common/http/correlator';
import type { RootLogger } from '../common/logging/root-logger';
import { Cluster, ForwardedRequest } from '../cluster/cluster';
import { MediaSession } from '../store/session-store';
import { isFinal } from './session-status';

/** Retry-After of the 503 a draining instance answers to new calls: the load balancer moves on meanwhile. */
export const DRAIN_RETRY_AFTER_S = 5;

/** A draining instance takes no new calls: 503 UNAVAILABLE with Retry-After. */
export function refuseWhileDraining(cluster: Cluster | undefined): void {
  if (cluster?.draining) throw new RetryLaterError('This gateway instance is shutting down and takes no new calls; retry (another instance takes it).', DRAIN_RETRY_AFTER_S);
}

type Op = ForwardedRequest['op'];
/** `log`: a logger carrying the forwarding request's x-correlator, when it came with one. */
export type ForwardedOps = Record<Op, (principal: Principal, id: string, body: unknown, log: RootLogger | undefined) => Promise<unknown>>;

/** The x-correlator a request's logger carries (requestLoggerOf binds it). */
const correlatorOfLog = (log: RootLogger | undefined): string | undefined => {
  const c: unknown = log?.bindings().correlator;
  return typeof c === 'string' ? c : undefined;
};

/**
 * App requests about a session another live instance owns are answered by that instance, which
 * holds the session's SIP transactions and timers (the answer to an incoming INVITE, its decline,
 * the serial order of in-dialog requests). The owner's CAMARA error comes back as is; no answer
 * in time is 504 TIMEOUT. An owner nobody listens for any more is gone: the request is handled
 * here (a survivor adopts the session within seconds). The request's x-correlator goes along, so the
 * owner's lines about it (its SIP, its transitions) name the same request as the forwarder's.
 */
export class OwnerForwarding {
  constructor(
    private readonly cluster: Cluster | undefined,
    private readonly logger?: RootLogger,
  ) {}

  /** The owner's answer, or undefined when this instance must handle the request itself. `log`: the request's logger. */
  async forward(s: MediaSession, op: Op, body?: unknown, log?: RootLogger): Promise<{ value: unknown } | undefined> {
    const cluster = this.cluster;
    if (!cluster || s.owner === undefined || s.owner === cluster.instanceId || isFinal(s.status)) return undefined;
    const correlator = correlatorOfLog(log);
    const outcome = await cluster.forward(s.owner, {
      op,
      mediaSessionId: s.mediaSessionId,
      phoneNumber: s.phoneNumber,
      ...(body !== undefined && { body }),
      ...(correlator !== undefined && { correlator }),
    });
    switch (outcome.kind) {
      case 'no-listener':
        return undefined;
      case 'timeout':
        throw new ApiError(504, 'TIMEOUT', 'The gateway instance handling this call did not answer in time; retry.');
      case 'answered':
        if (!outcome.reply.ok) throw new ApiError(outcome.reply.error.status, outcome.reply.error.code, outcome.reply.error.message);
        return { value: outcome.reply.value };
    }
  }

  /** Serves requests forwarded to this instance with `ops` (each checks ownership of the session again). */
  serve(ops: ForwardedOps): void {
    this.cluster?.serve(async (req) => {
      const principal: Principal = { subject: undefined, phoneNumber: req.phoneNumber, scopes: new Set() };
      // another instance's word, still checked before it reaches a log line
      const correlator = typeof req.correlator === 'string' && X_CORRELATOR_PATTERN.test(req.correlator) ? req.correlator : undefined;
      const log = correlator !== undefined ? this.logger?.child({ correlator, forwarded: true }) : undefined;
      const value = await ops[req.op](principal, req.mediaSessionId, req.body, log);
      return { ok: true, ...(value !== undefined && { value }) };
    });
  }
}

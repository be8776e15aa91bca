import type { Principal } from '../common/auth/principal';
import { ApiError, RetryLaterError } from '../common/errors/api-error';
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
export type ForwardedOps = Record<Op, (principal: Principal, id: string, body: unknown) => Promise<unknown>>;

/**
 * App requests about a session another live instance owns are answered by that instance, which
 * holds the session's SIP transactions and timers (the answer to an incoming INVITE, its decline,
 * the serial order of in-dialog requests). The owner's CAMARA error comes back as is; no answer
 * in time is 504 TIMEOUT. An owner nobody listens for any more is gone: the request is handled
 * here (a survivor adopts the session within seconds).
 */
export class OwnerForwarding {
  constructor(private readonly cluster: Cluster | undefined) {}

  /** The owner's answer, or undefined when this instance must handle the request itself. */
  async forward(s: MediaSession, op: Op, body?: unknown): Promise<{ value: unknown } | undefined> {
    const cluster = this.cluster;
    if (!cluster || s.owner === undefined || s.owner === cluster.instanceId || isFinal(s.status)) return undefined;
    const outcome = await cluster.forward(s.owner, { op, mediaSessionId: s.mediaSessionId, phoneNumber: s.phoneNumber, ...(body !== undefined && { body }) });
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
      const value = await ops[req.op](principal, req.mediaSessionId, req.body);
      return { ok: true, ...(value !== undefined && { value }) };
    });
  }
}

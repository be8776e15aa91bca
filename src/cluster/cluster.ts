import type { ErrorInfo } from '../common/errors/api-error';

/**
 * Several gateway instances sharing one store (issue 15). Each instance has an id and, with Redis,
 * a lease it heartbeats; sessions record the id of the instance that holds their SIP transactions
 * and timers (`MediaSession.owner`). This port is what the features use:
 *
 * - `forward`: an app request about a session another instance owns is answered by that instance
 *   (request/reply over the store's messaging, with a timeout);
 * - `onOwnerLost`: a survivor is told, once, that an instance's lease lapsed (or was released by a
 *   graceful drain) and adopts its sessions;
 * - `drain`: SIGTERM: not ready, no new calls, calls in setup ended, lease released.
 */

/** An app request about a session, as validated by the instance that received it. */
export interface ForwardedRequest {
  op: 'update-status' | 'remove';
  mediaSessionId: string;
  /** The token's phone number (the owner checks the session is that subscriber's again). */
  phoneNumber: string;
  /** The validated request body (JSON). */
  body?: unknown;
  /** The app request's x-correlator: the owner's log lines about it carry it too. */
  correlator?: string;
}

/** The owner's answer: the response body, or the CAMARA error to answer with as is. */
export type ForwardedReply = { ok: true; value?: unknown } | { ok: false; error: ErrorInfo };

export type ForwardOutcome =
  | { kind: 'answered'; reply: ForwardedReply }
  /** Nobody listens on the owner's channel: the owner is gone (its sessions are being adopted). */
  | { kind: 'no-listener' }
  /** The owner did not answer within CLUSTER_FORWARD_TIMEOUT_MS. */
  | { kind: 'timeout' };

export type OwnerLostHandler = (owner: string) => Promise<void>;
export type ForwardHandler = (req: ForwardedRequest) => Promise<ForwardedReply>;

export abstract class Cluster {
  /** This instance's id: the `owner` of the sessions it creates. */
  abstract readonly instanceId: string;
  private drainingSince: number | undefined;
  protected forwardHandler: ForwardHandler | undefined;
  protected readonly lostHandlers: OwnerLostHandler[] = [];
  protected readonly drainHandlers: Array<() => Promise<void>> = [];

  /** Sends `req` to the instance `owner` and waits for its answer. */
  abstract forward(owner: string, req: ForwardedRequest): Promise<ForwardOutcome>;
  /** Ids of the sessions whose status is not final (all instances), for adoption and drain. */
  abstract activeSessionIds(): Promise<string[]>;

  /** Answers requests other instances forward to this one (one handler). */
  serve(handler: ForwardHandler): void {
    this.forwardHandler = handler;
  }

  /** Called with the id of an instance whose lease lapsed, on exactly one survivor at a time. */
  onOwnerLost(handler: OwnerLostHandler): void {
    this.lostHandlers.push(handler);
  }

  /** Work to do at a graceful drain before the lease is released (end the calls in setup). */
  onDrain(handler: () => Promise<void>): void {
    this.drainHandlers.push(handler);
  }

  /** SIGTERM: from now on this instance is not ready and takes no new calls. */
  drain(): void {
    this.drainingSince ??= Date.now();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }
}

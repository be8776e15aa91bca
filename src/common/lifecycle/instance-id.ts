import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * This gateway instance's id (host name + random suffix): the `owner` of the sessions it holds, of
 * its cluster lease and of the event-delivery leases it takes, so that a survivor adopting a lost
 * instance can release all three. Provided by the cluster module.
 */
export const INSTANCE_ID = 'INSTANCE_ID';

export function newInstanceId(): string {
  return `${hostname()
    .replace(/[^A-Za-z0-9.-]/g, '')
    .slice(0, 40)}-${randomUUID().slice(0, 8)}`;
}

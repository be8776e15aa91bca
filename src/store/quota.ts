/**
 * The answer of a create that checks a per-owner cap (registrations per number, sessions in
 * progress per number, subscriptions per device) and inserts in one atomic step: nothing was
 * written, because `active` records of that owner already count against the cap `max`.
 */
export interface QuotaExceeded {
  readonly quotaExceeded: true;
  readonly active: number;
  readonly max: number;
}

export const quotaExceeded = (active: number, max: number): QuotaExceeded => ({ quotaExceeded: true, active, max });

export function isQuotaExceeded(x: unknown): x is QuotaExceeded {
  return typeof x === 'object' && x !== null && (x as { quotaExceeded?: unknown }).quotaExceeded === true;
}

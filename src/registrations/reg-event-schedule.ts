/**
 * When the refresher acts on a registration that also holds a `reg` subscription (RFC 3680):
 * the record's `dueAt` (the store's due index) is the earlier of the REGISTER refresh and the next
 * SUBSCRIBE. Pure.
 */
import type { Registration } from '../store/registration-store';

/** TS 24.229 §5.1.1.3: the UE asks for a subscription of 600 000 s. */
export const REG_EVENT_EXPIRES_S = 600_000;

/** A new registration under the IMS profile: subscribe to `reg` at once (TS 24.229 §5.1.1.3); `plain`: unchanged. */
export function withRegEvent(reg: Registration, profile: 'ims' | 'plain', now: number): Registration {
  if (profile !== 'ims') return reg;
  return schedule({ ...reg, regEvent: { dueAt: now, registerDueAt: reg.dueAt, failures: 0 } }, reg.dueAt);
}

/** The record with its REGISTER refresh at `registerDueAt`, and `dueAt` the earlier of that and the next SUBSCRIBE. */
export function schedule(reg: Registration, registerDueAt: number): Registration {
  const ev = reg.regEvent;
  if (!ev) return { ...reg, dueAt: registerDueAt };
  return { ...reg, dueAt: Math.min(registerDueAt, ev.dueAt ?? Number.POSITIVE_INFINITY), regEvent: { ...ev, registerDueAt } };
}

/** The SUBSCRIBE (refresh, retry or new subscription) is due. */
export function subscriptionDue(reg: Registration, now: number): boolean {
  const due = reg.regEvent?.dueAt;
  return due !== undefined && due <= now;
}

/** The REGISTER refresh is due: always, unless the record was claimed for its subscription alone. */
export function registerDue(reg: Registration, now: number): boolean {
  const ev = reg.regEvent;
  return !ev || !subscriptionDue(reg, now) || ev.registerDueAt <= now;
}

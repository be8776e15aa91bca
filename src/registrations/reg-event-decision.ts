/**
 * What a `reg` NOTIFY (RFC 3680) means for one registration of ours. Pure: the tests are tables.
 * The SIP layer parsed the document; `reg-events.ts` acts on the decision.
 */
import type { RegInfo, RegInfoContact, RegInfoRegistration, SubscriptionState } from '../sip/sip-gateway';
import { sameContact } from '../sip/registration';

/** Our side of the registration: the public identity, the Contact URI bound and our instance id. */
export interface RegEventView {
  /** `sip:<phoneNumber>@<domain>`. */
  aor: string;
  /** The Contact URI we registered. */
  contact: string;
  /** `+sip.instance` value we registered: `<urn:uuid:deviceId>` (RFC 5626 §4.1). */
  instance: string;
  /** The last version applied in this subscription (RFC 3680 §5.2). */
  lastVersion?: number;
}

/** What happens to the registration. */
export type ContactDecision =
  /** Nothing to do (our contact active, not mentioned, or an older document). */
  | { kind: 'none' }
  /** TS 24.229 §5.1.1.7: the network removed our contact: the registration is over. */
  | { kind: 'end'; event: string }
  /** TS 24.229 §5.1.1.7: `deactivated` / `probation`: register anew at once. */
  | { kind: 're-register'; event: string }
  /** RFC 3680 §5.3 `shortened`: the binding now lapses in `expiresS`; refresh earlier. */
  | { kind: 'shorten'; expiresS: number };

/** What happens to the subscription (RFC 6665 §4.1.3). */
export type SubscriptionDecision =
  | { kind: 'keep'; expiresS?: number }
  /** The notifier ended it; subscribe again after `afterS`. */
  | { kind: 'resubscribe'; afterS: number }
  /** Ended with `rejected`/`noresource`/`invariant`: do not subscribe again. */
  | { kind: 'stop'; reason: string };

export interface RegEventDecision {
  /** The document was not newer than what we applied: ignored (RFC 3680 §5.2). */
  stale: boolean;
  /** The version to remember (absent when stale or without a document). */
  version?: number;
  /** RFC 3680 §5.2: a partial document skipped versions: refresh the subscription for a full state. */
  resync: boolean;
  contact: ContactDecision;
  subscription: SubscriptionDecision;
}

/** RFC 3680 §5.3 events that take our contact away for good. */
const ENDING = new Set(['rejected', 'unregistered', 'expired']);
/** TS 24.229 §5.1.1.7: the UE shall start an initial registration. */
const REREGISTER = new Set(['deactivated', 'probation']);
/** RFC 6665 §4.1.3: with these reasons the subscriber does not re-subscribe. */
const FINAL_REASONS = new Set(['rejected', 'noresource', 'invariant']);
/** Without Retry-After, how long to wait after `probation` / `giveup` (RFC 6665 §4.1.3 leaves it open). */
export const DEFAULT_RESUBSCRIBE_S = 60;

export function decideRegEvent(reginfo: RegInfo | undefined, state: SubscriptionState, view: RegEventView): RegEventDecision {
  const subscription = decideSubscription(state);
  if (!reginfo) return { stale: false, resync: false, contact: { kind: 'none' }, subscription };
  if (view.lastVersion !== undefined && reginfo.version <= view.lastVersion) {
    return { stale: true, resync: false, contact: { kind: 'none' }, subscription };
  }
  const resync = reginfo.state === 'partial' && view.lastVersion !== undefined && reginfo.version > view.lastVersion + 1;
  return { stale: false, version: reginfo.version, resync, contact: decideContact(reginfo, view), subscription };
}

/** RFC 6665 §4.1.3: what a Subscription-State means for our subscription. */
export function decideSubscription(state: SubscriptionState): SubscriptionDecision {
  if (state.state !== 'terminated') return { kind: 'keep', ...(state.expiresS !== undefined && { expiresS: state.expiresS }) };
  const reason = state.reason;
  if (reason !== undefined && FINAL_REASONS.has(reason)) return { kind: 'stop', reason };
  // deactivated / timeout / no reason: at once; probation / giveup: after Retry-After
  const waits = reason === 'probation' || reason === 'giveup';
  return { kind: 'resubscribe', afterS: state.retryAfterS ?? (waits ? DEFAULT_RESUBSCRIBE_S : 0) };
}

/** TS 24.229 §5.1.1.7 / RFC 3680 §5.2 for OUR contact. */
export function decideContact(reginfo: RegInfo, view: RegEventView): ContactDecision {
  const ofOurAor = reginfo.registrations.filter((r) => sameContact(r.aor, view.aor));
  const relevant = ofOurAor.length > 0 ? ofOurAor : reginfo.registrations.filter((r) => r.contacts.some((c) => isOurs(c, view)));
  for (const reg of relevant) {
    const decision = forRegistration(reg, view);
    if (decision.kind !== 'none') return decision;
  }
  return { kind: 'none' };
}

function forRegistration(reg: RegInfoRegistration, view: RegEventView): ContactDecision {
  const ours = reg.contacts.find((c) => isOurs(c, view));
  // RFC 3680 §5.3: a terminated registration has no contact left (TS 24.229 §5.1.1.7: every identity deregistered)
  if (reg.state === 'terminated' && (!ours || ours.state === 'terminated')) {
    const event = ours?.event ?? 'terminated';
    return REREGISTER.has(event) ? { kind: 're-register', event } : { kind: 'end', event: ours ? event : 'registration terminated' };
  }
  if (!ours) return { kind: 'none' };
  if (ours.state === 'terminated') {
    if (REREGISTER.has(ours.event)) return { kind: 're-register', event: ours.event };
    // rejected, unregistered, expired (and any other way of ending it): the binding is gone
    return { kind: 'end', event: ENDING.has(ours.event) ? ours.event : `terminated (${ours.event.slice(0, 32)})` };
  }
  if (ours.event === 'shortened' && ours.expiresS !== undefined) return { kind: 'shorten', expiresS: ours.expiresS };
  return { kind: 'none' };
}

/** Our contact: the Contact URI we registered, or our `+sip.instance` (the registrar may rewrite the URI). */
function isOurs(c: RegInfoContact, view: RegEventView): boolean {
  return sameContact(c.uri, view.contact) || (c.instance !== undefined && c.instance.toLowerCase() === view.instance.toLowerCase());
}

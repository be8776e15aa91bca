import type { RegInfo, RegInfoContact, SubscriptionState } from '../sip/sip-gateway';
import { ContactDecision, decideContact, decideRegEvent, decideSubscription, RegEventView, SubscriptionDecision } from './reg-event-decision';

const VIEW: RegEventView = { aor: 'sip:+17085852753@ims.lab', contact: 'sip:reg-1@127.0.0.1:5070', instance: '<urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e>' };
const ACTIVE: SubscriptionState = { state: 'active', expiresS: 600000 };

function doc(contact: Partial<RegInfoContact>, over: { registrationState?: 'init' | 'active' | 'terminated'; version?: number; state?: 'full' | 'partial'; aor?: string } = {}): RegInfo {
  return {
    version: over.version ?? 1,
    state: over.state ?? 'full',
    registrations: [
      {
        aor: over.aor ?? VIEW.aor,
        id: 'r1',
        state: over.registrationState ?? 'active',
        contacts: [{ id: 'c1', state: 'active', event: 'registered', uri: VIEW.contact, ...contact }],
      },
    ],
  };
}

describe('decideContact: our contact in a reginfo document (TS 24.229 §5.1.1.7, RFC 3680 §5.2)', () => {
  it.each<[string, RegInfo, ContactDecision]>([
    ['RFC 3680 §5.3 active/registered: nothing to do', doc({}), { kind: 'none' }],
    ['RFC 3680 §5.3 active/refreshed: nothing to do', doc({ event: 'refreshed' }), { kind: 'none' }],
    ['TS 24.229 §5.1.1.7 terminated/rejected: the registration ends', doc({ state: 'terminated', event: 'rejected' }), { kind: 'end', event: 'rejected' }],
    ['TS 24.229 §5.1.1.7 terminated/unregistered: the registration ends', doc({ state: 'terminated', event: 'unregistered' }), { kind: 'end', event: 'unregistered' }],
    ['TS 24.229 §5.1.1.7 terminated/expired: the registration ends', doc({ state: 'terminated', event: 'expired' }), { kind: 'end', event: 'expired' }],
    ['TS 24.229 §5.1.1.7 terminated/deactivated: register again at once', doc({ state: 'terminated', event: 'deactivated' }), { kind: 're-register', event: 'deactivated' }],
    ['TS 24.229 §5.1.1.7 terminated/probation: register again at once', doc({ state: 'terminated', event: 'probation' }), { kind: 're-register', event: 'probation' }],
    ['RFC 3680 §5.3 active/shortened with expires: refresh earlier', doc({ event: 'shortened', expiresS: 40 }), { kind: 'shorten', expiresS: 40 }],
    [
      'RFC 3680 §5.3 the whole registration terminated (no contact listed): it ends',
      { version: 1, state: 'full', registrations: [{ aor: VIEW.aor, id: 'r1', state: 'terminated', contacts: [] }] },
      { kind: 'end', event: 'registration terminated' },
    ],
    [
      'RFC 3680 §5.3 registration terminated with our contact deactivated: register again',
      doc({ state: 'terminated', event: 'deactivated' }, { registrationState: 'terminated' }),
      { kind: 're-register', event: 'deactivated' },
    ],
    [
      'our contact matched by +sip.instance (RFC 5626 §4.1) when the registrar rewrote the URI',
      doc({ uri: 'sip:rewritten@10.0.0.7', instance: VIEW.instance, state: 'terminated', event: 'rejected' }),
      { kind: 'end', event: 'rejected' },
    ],
    ['another contact of the AoR terminated: not ours, nothing to do', doc({ uri: 'sip:other@10.0.0.9', state: 'terminated', event: 'rejected' }), { kind: 'none' }],
    [
      'another AoR that lists our contact (implicit registration set) decides too',
      doc({ state: 'terminated', event: 'unregistered' }, { aor: 'tel:+17085852753' }),
      { kind: 'end', event: 'unregistered' },
    ],
  ])('%s', (_name, reginfo, expected) => {
    expect(decideContact(reginfo, VIEW)).toEqual(expected);
  });
});

describe('decideSubscription: Subscription-State of the NOTIFY (RFC 6665 §4.1.3)', () => {
  it.each<[string, SubscriptionState, SubscriptionDecision]>([
    ['active with expires: kept, new expiry', ACTIVE, { kind: 'keep', expiresS: 600000 }],
    ['pending: kept', { state: 'pending' }, { kind: 'keep' }],
    ['terminated;reason=rejected: no new subscription', { state: 'terminated', reason: 'rejected' }, { kind: 'stop', reason: 'rejected' }],
    ['terminated;reason=noresource: no new subscription', { state: 'terminated', reason: 'noresource' }, { kind: 'stop', reason: 'noresource' }],
    ['terminated;reason=deactivated: re-subscribe at once', { state: 'terminated', reason: 'deactivated' }, { kind: 'resubscribe', afterS: 0 }],
    ['terminated;reason=timeout: re-subscribe at once', { state: 'terminated', reason: 'timeout' }, { kind: 'resubscribe', afterS: 0 }],
    ['terminated;reason=probation;retry-after=30: re-subscribe after 30 s', { state: 'terminated', reason: 'probation', retryAfterS: 30 }, { kind: 'resubscribe', afterS: 30 }],
    ['terminated;reason=giveup without retry-after: re-subscribe after the default', { state: 'terminated', reason: 'giveup' }, { kind: 'resubscribe', afterS: 60 }],
    ['terminated without reason: re-subscribe at once', { state: 'terminated' }, { kind: 'resubscribe', afterS: 0 }],
  ])('%s', (_name, state, expected) => {
    expect(decideSubscription(state)).toEqual(expected);
  });
});

describe('decideRegEvent: versions (RFC 3680 §5.2)', () => {
  const rejected = doc({ state: 'terminated', event: 'rejected' }, { version: 4 });

  it('applies a newer document and remembers its version', () => {
    expect(decideRegEvent(rejected, ACTIVE, { ...VIEW, lastVersion: 3 })).toMatchObject({ stale: false, version: 4, resync: false, contact: { kind: 'end' } });
  });

  it.each([[4], [5]])('ignores a document whose version is not newer than the one applied (%i)', (lastVersion) => {
    expect(decideRegEvent(rejected, ACTIVE, { ...VIEW, lastVersion })).toEqual({ stale: true, resync: false, contact: { kind: 'none' }, subscription: { kind: 'keep', expiresS: 600000 } });
  });

  it('applies the first document of a subscription whatever its version', () => {
    expect(decideRegEvent(rejected, ACTIVE, VIEW)).toMatchObject({ stale: false, version: 4 });
  });

  it('asks for a full state (resync) when a partial document skipped versions', () => {
    expect(decideRegEvent(doc({}, { version: 7, state: 'partial' }), ACTIVE, { ...VIEW, lastVersion: 4 })).toMatchObject({ stale: false, version: 7, resync: true });
    expect(decideRegEvent(doc({}, { version: 5, state: 'partial' }), ACTIVE, { ...VIEW, lastVersion: 4 })).toMatchObject({ resync: false });
  });

  it('a NOTIFY without a body only speaks about the subscription', () => {
    expect(decideRegEvent(undefined, { state: 'terminated', reason: 'rejected' }, VIEW)).toEqual({
      stale: false,
      resync: false,
      contact: { kind: 'none' },
      subscription: { kind: 'stop', reason: 'rejected' },
    });
  });
});

import { parseRegInfo, parseSubscriptionState, RegInfoError } from './reginfo';

/** RFC 3680 §6 example, with our instance id as an unknown-param (RFC 5626 §4.1). */
const FULL = `<?xml version="1.0"?>
<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full">
  <registration aor="sip:+17085852753@ims.lab" id="a7" state="active">
    <contact id="76" state="active" event="registered" expires="3600" duration-registered="0">
      <uri>sip:reg-1@127.0.0.1:5070</uri>
      <unknown-param name="+sip.instance">"&lt;urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e&gt;"</unknown-param>
    </contact>
    <contact id="77" state="terminated" event="expired"><uri>sip:other@10.0.0.9</uri></contact>
  </registration>
</reginfo>`;

describe('parseRegInfo (RFC 3680 §5.3)', () => {
  it('reads a full-state document: version, state, every registration and contact with expires and +sip.instance', () => {
    expect(parseRegInfo(FULL)).toEqual({
      version: 0,
      state: 'full',
      registrations: [
        {
          aor: 'sip:+17085852753@ims.lab',
          id: 'a7',
          state: 'active',
          contacts: [
            { id: '76', state: 'active', event: 'registered', uri: 'sip:reg-1@127.0.0.1:5070', expiresS: 3600, instance: '<urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e>' },
            { id: '77', state: 'terminated', event: 'expired', uri: 'sip:other@10.0.0.9' },
          ],
        },
      ],
    });
  });

  it('reads a partial document with a namespace prefix and one registration without contacts', () => {
    const xml = `<ri:reginfo xmlns:ri="urn:ietf:params:xml:ns:reginfo" version="3" state="partial"><ri:registration aor="sip:+17085852753@ims.lab" id="a7" state="terminated"/></ri:reginfo>`;
    expect(parseRegInfo(xml)).toEqual({ version: 3, state: 'partial', registrations: [{ aor: 'sip:+17085852753@ims.lab', id: 'a7', state: 'terminated', contacts: [] }] });
  });

  it.each([
    ['not XML', 'reginfo version=1'],
    ['unclosed elements', '<reginfo version="0" state="full"><registration>'],
    ['another document', '<presence xmlns="urn:ietf:params:xml:ns:pidf"/>'],
    ['no version', '<reginfo state="full"/>'],
    ['a negative version', '<reginfo version="-1" state="full"/>'],
    ['an unknown document state', '<reginfo version="0" state="some"/>'],
    ['a registration without aor', '<reginfo version="0" state="full"><registration id="1" state="active"/></reginfo>'],
    [
      'a contact without event',
      '<reginfo version="0" state="full"><registration aor="sip:a@b" id="1" state="active"><contact id="1" state="active"><uri>sip:c@d</uri></contact></registration></reginfo>',
    ],
    [
      'a contact URI that would break a header (character references, a space)',
      '<reginfo version="0" state="full"><registration aor="sip:a@b" id="1" state="active"><contact id="1" state="active" event="registered"><uri>sip:c@d&#13;&#10;X: y</uri></contact></registration></reginfo>',
    ],
  ])('refuses %s (the NOTIFY gets 400)', (_what, xml) => {
    expect(() => parseRegInfo(xml)).toThrow(RegInfoError);
  });

  it('does not expand entities (no DOCTYPE entity reaches a value)', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE reginfo [<!ENTITY x "sip:evil@example.com">]><reginfo version="0" state="full"><registration aor="sip:a@b" id="1" state="active"><contact id="1" state="active" event="registered"><uri>&x;</uri></contact></registration></reginfo>`;
    let uri: string | undefined;
    try {
      uri = parseRegInfo(xml).registrations[0]?.contacts[0]?.uri;
    } catch (err) {
      expect(err).toBeInstanceOf(RegInfoError);
    }
    expect(uri).not.toBe('sip:evil@example.com');
  });
});

describe('parseSubscriptionState (RFC 6665 §8.2.3)', () => {
  it.each([
    ['active;expires=600000', { state: 'active', expiresS: 600000 }],
    ['terminated;reason=rejected', { state: 'terminated', reason: 'rejected' }],
    ['Terminated ; reason=Probation ; retry-after=30', { state: 'terminated', reason: 'probation', retryAfterS: 30 }],
    ['pending', { state: 'pending' }],
  ])('%s', (value, expected) => {
    expect(parseSubscriptionState(value)).toEqual(expected);
  });

  it.each([[undefined], ['waiting'], ['active;expires=soon']])('refuses %p', (value) => {
    expect(() => parseSubscriptionState(value)).toThrow(RegInfoError);
  });
});

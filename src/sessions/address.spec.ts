import { ADDRESS_PATTERN, isEmergencyUrn, phoneNumberOf, quoteDisplayName, toSipUri } from './address';

describe('CAMARA address', () => {
  it.each([
    'tel:+17085852753',
    'tel:1234;phone-context=+1708',
    'tel:1234;phone-context=ims.example.com',
    'sip:+17085852753@ims.lab.example',
    'sip:alice@example.com',
    'sip:1234;phone-context=+1708@ims.example.com;user=phone',
    'urn:service:sos',
    'urn:service:sos.police',
    'sip:anonymous@anonymous.invalid',
  ])('accepts %s', (a) => expect(ADDRESS_PATTERN.test(a)).toBe(true));

  it.each(['tel:17085852753', 'sip:alice@example.com\r\nVia: evil', 'sip:"alice"@example.com', 'sip:alice@example.com>;x=<y', 'urn:service:counseling', 'mailto:alice@example.com', 'tel:+1\u0000'])(
    'rejects %j',
    (a) => expect(ADDRESS_PATTERN.test(a)).toBe(false),
  );

  it.each([
    ['tel:+17085854000', 'sip:+17085854000@ims.lab;user=phone'],
    ['tel:1234;phone-context=+1708', 'sip:1234;phone-context=+1708@ims.lab;user=phone'],
    ['sip:+17085854000@other.example', 'sip:+17085854000@other.example'],
    ['urn:service:sos.fire', 'urn:service:sos.fire'],
  ])('maps %s to the SIP URI %s', (a, uri) => expect(toSipUri(a, 'ims.lab')).toBe(uri));

  it.each([
    ['tel:+17085852753', '+17085852753'],
    ['sip:+17085852753@ims.lab', '+17085852753'],
    ['sip:+17085852753@ims.lab;user=phone', '+17085852753'],
    ['sip:alice@example.com', undefined],
    ['sip:anonymous@anonymous.invalid', undefined],
  ])('reads the phone number of %s', (a, n) => expect(phoneNumberOf(a)).toBe(n));

  it('recognises emergency service URNs', () => {
    expect(isEmergencyUrn('urn:service:sos')).toBe(true);
    expect(isEmergencyUrn('urn:service:sos.ambulance')).toBe(true);
    expect(isEmergencyUrn('urn:service:sosx')).toBe(false);
  });

  describe('display names', () => {
    it('quotes and escapes " and \\ (RFC 3261 §25.1)', () => {
      expect(quoteDisplayName('Alice "Al" \\ Smith')).toBe('"Alice \\"Al\\" \\\\ Smith"');
      expect(quoteDisplayName('Zoë')).toBe('"Zoë"');
    });
    it.each(['a\r\nb', 'a\nb', 'a\u0000b', 'a\u007fb'])('refuses control characters in %j', (n) => {
      expect(() => quoteDisplayName(n)).toThrow();
    });
  });
});

import { classifyCall } from './call-classification';

const NUMBERS = ['112', '911'] as const;

describe(classifyCall.name, () => {
  it.each([
    // receiver                                           callType      → serviceUrn                 trigger
    ['urn:service:sos', undefined, 'urn:service:sos', 'service-urn'],
    ['urn:service:sos', 'REGULAR', 'urn:service:sos', 'service-urn'],
    ['urn:service:sos.police', undefined, 'urn:service:sos.police', 'service-urn'],
    ['urn:service:sos.ambulance', 'EMERGENCY', 'urn:service:sos.ambulance', 'service-urn'],
    ['urn:service:sos.animal-control', undefined, 'urn:service:sos.animal-control', 'service-urn'],
    ['URN:Service:SOS.Fire', undefined, 'urn:service:sos.fire', 'service-urn'],
    ['tel:911', undefined, 'urn:service:sos', 'emergency-number'],
    ['tel:112', 'REGULAR', 'urn:service:sos', 'emergency-number'],
    ['tel:911;phone-context=+1', undefined, 'urn:service:sos', 'emergency-number'],
    ['tel:112;phone-context=ims.example.com', undefined, 'urn:service:sos', 'emergency-number'],
    ['sip:112;phone-context=+44@ims.lab;user=phone', undefined, 'urn:service:sos', 'emergency-number'],
    ['tel:+15550009999', 'EMERGENCY', 'urn:service:sos', 'call-type'],
    ['sip:bob@example.com', 'EMERGENCY', 'urn:service:sos', 'call-type'],
    ['tel:999', 'EMERGENCY', 'urn:service:sos', 'call-type'],
  ] as const)('%s with callType %s is an emergency call to %s (%s)', (receiverAddress, callType, serviceUrn, trigger) => {
    expect(classifyCall({ receiverAddress, callType }, NUMBERS)).toEqual({ emergency: true, serviceUrn, trigger });
  });

  it.each([
    ['tel:+15550009999', undefined],
    ['tel:+15550009999', 'REGULAR'],
    ['tel:9110', undefined], // a whole number, not a prefix
    ['tel:91', undefined],
    ['tel:999', undefined], // not in the configured list
    ['tel:+911234567', undefined], // E.164 starting with 911 is not 911
    ['sip:911@ims.lab', undefined], // a SIP user name, not dialled digits (no user=phone)
    ['urn:service:counseling', undefined],
    ['urn:service:sosx', undefined],
    ['sip:anonymous@anonymous.invalid', 'REGULAR'],
  ] as const)('%s with callType %s is a regular call', (receiverAddress, callType) => {
    expect(classifyCall({ receiverAddress, callType }, NUMBERS)).toEqual({ emergency: false });
  });

  it('uses the configured list: tel:999 is an emergency number where configured', () => {
    expect(classifyCall({ receiverAddress: 'tel:999' }, ['999'])).toMatchObject({ emergency: true, serviceUrn: 'urn:service:sos' });
    expect(classifyCall({ receiverAddress: 'tel:911' }, [])).toEqual({ emergency: false });
  });
});

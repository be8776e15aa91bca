import type { SipMessage } from 'sip';
import { Secret } from '../../config/secret';
import type { ImsRegistration } from '../../domain/registration-binding';
import type { ImsProfile } from '../ims-registration';
import type { RegistrationTarget } from '../sip-gateway';
import { fakeCore } from './__testing__/fake-transaction-layer';
import { NonInviteClient } from './non-invite-client';
import { RegisterClient } from './register-client';

const TARGET: RegistrationTarget = {
  registrationId: 'reg-1',
  phoneNumber: '+17085852753',
  deviceId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  expiresS: 600,
  credentials: { username: '+17085852753', password: new Secret('pw') },
};
const OURS = 'sip:reg-1@127.0.0.1:5070';
/** What a small IMS registrar puts in its 200 OK (RFC 3608, RFC 3455, RFC 5627). */
const IMS_200: Partial<SipMessage['headers']> = {
  contact: [{ uri: OURS, params: { expires: '600', 'pub-gruu': '"sip:+17085852753@ims.lab;gr=urn:uuid:0f8f"' } }],
  'service-route': '<sip:orig@10.0.0.1:5060;lr>',
  'p-associated-uri': '<sip:+17085852753@ims.lab>, <tel:+17085852753>',
};

async function register(profile: ImsProfile) {
  const core = fakeCore();
  const client = new RegisterClient(core, new NonInviteClient(core), 'ims.lab', (user) => `sip:${user}@127.0.0.1:5070`, profile);
  const granted = client.register(TARGET);
  const sent = core.stack.last('REGISTER');
  core.stack.respondTo(sent, 200, 'OK', IMS_200);
  return { sent: sent.rq, grant: await granted };
}

describe(RegisterClient.name, () => {
  it.each<[string, ImsProfile, string | undefined, ImsRegistration | undefined]>([
    [
      'SIP_IMS_PROFILE=ims: Supported path, gruu, the MMTel tag in Contact, the IMS facts of the 200 OK on the binding',
      'ims',
      'path, gruu',
      { serviceRoute: ['sip:orig@10.0.0.1:5060;lr'], associatedUris: ['sip:+17085852753@ims.lab', 'tel:+17085852753'], path: [], pubGruu: 'sip:+17085852753@ims.lab;gr=urn:uuid:0f8f' },
    ],
    ['SIP_IMS_PROFILE=plain: no Supported, no MMTel tag, no IMS facts', 'plain', undefined, undefined],
  ])('%s', async (_name, profile, supported, ims) => {
    const { sent, grant } = await register(profile);
    expect(sent.headers.supported).toBe(supported);
    const contact = sent.headers.contact;
    expect(Array.isArray(contact) && contact[0]?.params['+g.3gpp.icsi-ref']).toBe(profile === 'ims' ? '"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"' : undefined);
    expect(grant.binding.ims).toEqual(ims);
    expect(grant.binding.contact).toBe(OURS);
  });
});

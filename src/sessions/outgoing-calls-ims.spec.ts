import type { ImsRegistration } from '../domain/registration-binding';
import type { RegistrationTarget } from '../sip/sip-gateway';
import { OutgoingCalls } from './outgoing-calls';
import { ALICE, principal, setup } from './__testing__/sessions-harness';

const IMS: ImsRegistration = {
  serviceRoute: ['sip:orig@10.0.0.1:5060;lr'],
  associatedUris: ['sip:alice@ims.lab', `sip:${ALICE}@ims.lab;user=phone`],
  path: [],
};
const MMTEL_HEADERS = {
  'P-Preferred-Service': 'urn:urn-7:3gpp-service.ims.icsi.mmtel',
  'Accept-Contact': '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"',
};

/** A registration whose REGISTER 200 OK carried the IMS facts above. */
async function imsSetup(env: Record<string, string>) {
  const h = await setup(env);
  h.sip.registerOutcome = (t: RegistrationTarget) => ({ binding: { callId: 'c', cseq: 1, contact: `sip:${t.registrationId}@127.0.0.1:5070`, ims: IMS }, grantedExpiresS: t.expiresS });
  const reg = await h.registrations.create(principal(), { deviceId: '0f8fad5b-d9cb-469f-a165-70867728950e' });
  return { ...h, reg };
}

describe(`${OutgoingCalls.name} with an IMS registration (TS 24.229 §5.1.2A.1)`, () => {
  it.each<[string, Record<string, string>, { route?: string[]; headers: Record<string, string> }]>([
    [
      'SIP_IMS_PROFILE=ims (default): Service-Route preloaded, MMTel named, the number as preferred identity',
      {},
      { route: IMS.serviceRoute, headers: { ...MMTEL_HEADERS, 'P-Preferred-Identity': `<sip:${ALICE}@ims.lab;user=phone>` } },
    ],
    ['SIP_IMS_PROFILE=plain: none of it', { SIP_IMS_PROFILE: 'plain' }, { headers: {} }],
  ])('%s', async (_name, env, expected) => {
    const { sessions, reg, body, lastInvite } = await imsSetup(env);
    await sessions.create(principal(), reg.registrationId, body());
    const { call } = lastInvite();
    expect(call.route).toEqual(expected.route);
    expect(call.headers).toEqual(expected.headers);
  });

  it('keeps the anonymous caller asserted, without P-Preferred-Identity', async () => {
    const { sessions, reg, body, lastInvite } = await imsSetup({});
    await sessions.create(principal(), reg.registrationId, body({ originatorAddress: 'sip:anonymous@anonymous.invalid' }));
    expect(lastInvite().call.headers).toEqual({ 'P-Asserted-Identity': `<sip:${ALICE}@ims.lab>`, Privacy: 'id', ...MMTEL_HEADERS });
  });
});

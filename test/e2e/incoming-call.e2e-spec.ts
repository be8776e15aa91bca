import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, runSippUac, startLab } from '../support/lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { startSink, TestSink } from '../support/sink';

const ALICE = '+17085852753';
const BOB = '+17085854000';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const TYPES = ['session-invitation', 'session-status', 'registration-ends'].map((t) => `org.camaraproject.webrtc-events.v0.${t}`);
const SCOPES = [
  'webrtc-registration:sessions:create',
  'webrtc-registration:sessions:delete',
  'webrtc-call-handling:sessions:create',
  'webrtc-call-handling:sessions:read',
  'webrtc-call-handling:sessions:write',
  'webrtc-call-handling:sessions:delete',
  'webrtc-events:read',
  ...TYPES.map((t) => `webrtc-events:${t}:create`),
].join(' ');
const sdp = (who: string, dir = 'sendrecv') =>
  `v=0\r\no=${who} 100 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=${dir}\r\n`;

interface Party {
  phone: string;
  token: string;
  registrationId: string;
  deviceId: string;
  sink: TestSink;
}

describe('Alice calls Bob: both registered through the gateway, events at their sinks', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let alice: Party;
  let bob: Party;

  async function party(phone: string): Promise<Party> {
    const token = await idp.token({ phone_number: phone, scope: SCOPES });
    const deviceId = randomUUID();
    const reg = await gw.request('POST', '/webrtc-registration/v0.4/sessions', { token, body: { deviceId } });
    expect(reg.status).toBe(201);
    const sink = await startSink();
    const sub = await gw.request('POST', '/webrtc-events/v0.3/subscriptions', {
      token,
      body: { protocol: 'HTTP', sink: sink.url, types: TYPES, config: { subscriptionDetail: { deviceId } } },
    });
    expect(sub.status).toBe(201);
    return { phone, token, deviceId, registrationId: (reg.body as { registrationId: string }).registrationId, sink };
  }

  beforeAll(async () => {
    lab = await startLab({ redis: false });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp, { SIP_RING_TIMEOUT_MS: '20000' });
    alice = await party(ALICE);
    bob = await party(BOB);
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([alice?.sink.close(), bob?.sink.close()]);
    await lab?.stop();
  });

  it('rings, connects, holds, resumes and ends, with every status at both sinks', async () => {
    const created = await gw.request('POST', CALLS, {
      token: alice.token,
      headers: { registrationid: alice.registrationId },
      body: { originatorAddress: `tel:${ALICE}`, originatorName: 'Alice', receiverAddress: `tel:${BOB}`, receiverName: 'Bob', offer: { sdp: sdp('alice') } },
    });
    expect(created.status).toBe(201);
    const aliceSession = (created.body as { mediaSessionId: string }).mediaSessionId;

    const invitation = await bob.sink.waitFor((e) => e.body.type.endsWith('session-invitation'), 10_000, 'session-invitation');
    expect(invitation.headers['content-type']).toContain('application/cloudevents+json');
    expect(invitation.body).toMatchObject({ specversion: '1.0', data: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${BOB}`, status: 'Initial' } });
    expect(String(invitation.body.data.offer && (invitation.body.data.offer as { sdp: string }).sdp)).toContain('o=alice');
    const bobSession = String(invitation.body.data.mediaSessionId);

    const ringing = await gw.request('PUT', `${CALLS}/${bobSession}/status`, { token: bob.token, body: { status: 'Ringing' } });
    expect(ringing.status).toBe(200);
    expect(ringing.body).toMatchObject({ status: 'Ringing' });
    await alice.sink.waitFor((e) => e.body.data.mediaSessionId === aliceSession && e.body.data.status === 'Ringing', 10_000, 'Ringing at Alice');

    // Alice's app cannot answer its own outgoing call.
    const wrongRole = await gw.request('PUT', `${CALLS}/${aliceSession}/status`, { token: alice.token, body: { status: 'Connected', answer: { sdp: sdp('alice') } } });
    expect(wrongRole.status).toBe(409);
    expect(wrongRole.body).toMatchObject({ code: 'INCOMPATIBLE_STATE' });

    const answered = await gw.request('PUT', `${CALLS}/${bobSession}/status`, { token: bob.token, body: { status: 'Connected', answer: { sdp: sdp('bob') } } });
    expect(answered.status).toBe(200);
    await bob.sink.waitFor((e) => e.body.data.mediaSessionId === bobSession && e.body.data.status === 'Connected', 10_000, 'Connected at Bob');
    const connected = await alice.sink.waitFor((e) => e.body.data.mediaSessionId === aliceSession && e.body.data.status === 'Connected', 10_000, 'Connected at Alice');
    expect((connected.body.data.answer as { sdp: string }).sdp).toContain('o=bob');

    const hold = await gw.request('PUT', `${CALLS}/${aliceSession}/status`, { token: alice.token, body: { status: 'Hold' } });
    expect(hold.status).toBe(200);
    expect(hold.body).toMatchObject({ status: 'Hold' });
    // Bob's side sees a re-INVITE that holds it (a=sendonly from Alice).
    const bobHeld = await bob.sink.waitFor((e) => e.body.data.mediaSessionId === bobSession && e.body.data.status === 'Hold', 10_000, 'Hold at Bob');
    expect((bobHeld.body.data.offer as { sdp: string }).sdp).toContain('a=sendonly');
    expect((bobHeld.body.data.answer as { sdp: string }).sdp).toContain('a=recvonly');

    const resume = await gw.request('PUT', `${CALLS}/${aliceSession}/status`, { token: alice.token, body: { status: 'Resume' } });
    expect(resume.status).toBe(200);
    expect(resume.body).toMatchObject({ status: 'Resume' });
    await bob.sink.waitFor((e) => e.body.data.mediaSessionId === bobSession && e.body.data.status === 'Resume', 10_000, 'Resume at Bob');

    expect((await gw.request('DELETE', `${CALLS}/${bobSession}`, { token: bob.token })).status).toBe(204);
    await alice.sink.waitFor((e) => e.body.data.mediaSessionId === aliceSession && e.body.data.status === 'Terminated', 10_000, 'Terminated at Alice');
    await bob.sink.waitFor((e) => e.body.data.mediaSessionId === bobSession && e.body.data.status === 'Terminated', 10_000, 'Terminated at Bob');
    expect(alice.sink.statuses(aliceSession)).toEqual(['Ringing', 'Connected', 'Hold', 'Resume', 'Terminated']);
    expect(bob.sink.statuses(bobSession)).toEqual(['Ringing', 'Connected', 'Hold', 'Resume', 'Terminated']);
  });

  it('a caller on the network rings Bob and gives up: CANCEL → SessionCancelled', async () => {
    const before = bob.sink.events.length;
    const uac = runSippUac({ scenario: 'uac-call-then-cancel', proxyPort: lab.kamailio.port, callee: BOB, caller: '+15550001234', timeoutS: 20 });
    const invitation = await bob.sink.waitFor((e) => bob.sink.events.indexOf(e) >= before && e.body.type.endsWith('session-invitation'), 10_000, 'invitation');
    expect(invitation.body.data.originatorAddress).toBe('tel:+15550001234');
    const id = String(invitation.body.data.mediaSessionId);
    expect((await gw.request('PUT', `${CALLS}/${id}/status`, { token: bob.token, body: { status: 'Ringing' } })).status).toBe(200);
    const result = await uac;
    expect(result.exitCode).toBe(0);
    await bob.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'SessionCancelled', 10_000, 'SessionCancelled');
    expect((await gw.request('GET', `${CALLS}/${id}`, { token: bob.token })).body).toMatchObject({ status: 'SessionCancelled' });
  });

  it('a network caller whose call Bob answers and ends: SIPp sees 200 and our BYE', async () => {
    const before = bob.sink.events.length;
    const uac = runSippUac({ scenario: 'uac-call-remote-bye', proxyPort: lab.kamailio.port, callee: BOB, caller: '+15550004321', timeoutS: 20 });
    const invitation = await bob.sink.waitFor((e) => bob.sink.events.indexOf(e) >= before && e.body.type.endsWith('session-invitation'), 10_000, 'invitation');
    const id = String(invitation.body.data.mediaSessionId);
    expect((await gw.request('PUT', `${CALLS}/${id}/status`, { token: bob.token, body: { status: 'Connected', answer: { sdp: sdp('bob') } } })).status).toBe(200);
    await eventually(async () => ((await gw.request('GET', `${CALLS}/${id}`, { token: bob.token })).body as { status: string }).status === 'Connected', 5000, 'Connected');
    expect((await gw.request('DELETE', `${CALLS}/${id}`, { token: bob.token })).status).toBe(204);
    expect((await uac).exitCode).toBe(0);
  });

  it('declines with 603 when the app answers Declined', async () => {
    const before = bob.sink.events.length;
    const uac = runSippUac({ scenario: 'uac-call-answered', proxyPort: lab.kamailio.port, callee: BOB, caller: '+15550005555', timeoutS: 15 });
    const invitation = await bob.sink.waitFor((e) => bob.sink.events.indexOf(e) >= before && e.body.type.endsWith('session-invitation'), 10_000, 'invitation');
    const id = String(invitation.body.data.mediaSessionId);
    const res = await gw.request('PUT', `${CALLS}/${id}/status`, { token: bob.token, body: { status: 'Declined' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'Declined' });
    const result = await uac;
    expect(result.exitCode).not.toBe(0);
    expect(result.messages).toMatch(/SIP\/2.0 603/);
  });

  it('refuses a call with 480 when the device has no subscription', async () => {
    const token = await idp.token({ phone_number: '+17085850001', scope: SCOPES });
    const reg = await gw.request('POST', '/webrtc-registration/v0.4/sessions', { token, body: { deviceId: randomUUID() } });
    expect(reg.status).toBe(201);
    const result = await runSippUac({ scenario: 'uac-call-answered', proxyPort: lab.kamailio.port, callee: '+17085850001', timeoutS: 10 });
    expect(result.exitCode).not.toBe(0);
    expect(result.messages).toMatch(/SIP\/2.0 480/);
  });
});

import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { freePort, Lab, startLab } from '../support/lab';
import { eventually, GatewayUnderTest, spawnGatewayProcess, startGateway } from '../support/gateway';
import { SipExchange } from '../support/sip-trace';

const ALICE = '+17085852753';
const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const SCOPES = ['webrtc-registration:sessions:create', 'webrtc-call-handling:sessions:create', 'webrtc-call-handling:sessions:read', 'webrtc-call-handling:sessions:delete'].join(' ');
/** A browser-like offer (the CAMARA example without its "[...]" elision). */
const OFFER =
  'v=0\r\no=- 8066321617929821805 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 42988 RTP/SAVPF 102 113\r\n' +
  'c=IN IP4 203.0.113.7\r\nb=AS:64\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:4eKp\r\na=ice-pwd:D4sF5Pv9vx9ggaqxBlHbAFMx\r\n' +
  'a=mid:audio\r\na=sendrecv\r\na=rtcp-mux\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:Xm3YciqVIWFNSwy19e9MvfZ2YOdAZil7oT/tHjdf\r\n' +
  'a=rtpmap:102 AMR-WB/16000\r\na=fmtp:102 octet-align=0; mode-set=0,1,2; mode-change-capability=2\r\na=rtpmap:113 telephone-event/16000\r\n';

type Session = { mediaSessionId: string; status: string; answer?: { sdp: string } };

describe('outgoing calls over a real IMS core (Kamailio + SIPp far ends)', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let token: string;
  let registrationId: string;

  beforeAll(async () => {
    lab = await startLab({ ringMs: 300 });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp, { SIP_RING_TIMEOUT_MS: '3000' });
    token = await idp.token({ phone_number: ALICE, scope: SCOPES });
    const reg = await gw.request('POST', REG, { token, body: { deviceId: randomUUID() } });
    expect(reg.status).toBe(201);
    registrationId = (reg.body as { registrationId: string }).registrationId;
  });
  afterAll(async () => {
    await gw?.close();
    await lab?.stop();
  });

  const call = (to: string, over: Record<string, unknown> = {}, path = CALLS, g = gw) =>
    g.request('POST', path, {
      token,
      headers: { registrationid: registrationId },
      body: { originatorAddress: `tel:${ALICE}`, originatorName: 'Alice', receiverAddress: `tel:${to}`, receiverName: 'Bob', offer: { sdp: OFFER }, ...over },
    });
  const statusOf = async (id: string, g = gw): Promise<Session> => (await g.request('GET', `${CALLS}/${id}`, { token })).body as Session;
  const until = (id: string, status: string, g = gw, ms = 10_000) =>
    eventually(
      async () => {
        const s = await statusOf(id, g);
        return s.status === status ? s : undefined;
      },
      ms,
      `status ${status}`,
    );

  describe('Alice calls a number that answers', () => {
    it('rings, connects with the far end SDP as answer, and ends with BYE on DELETE', async () => {
      const res = await call(lab.numbers.answer);
      expect(res.status).toBe(201);
      const created = res.body as Session & { offer: { sdp: string } };
      expect(created.status).toBe('Initial');
      await until(created.mediaSessionId, 'Ringing');
      const connected = await until(created.mediaSessionId, 'Connected');
      expect(connected.answer?.sdp).toContain('o=sipp-uas');
      // The digest challenge (407) on the INVITE was answered: Kamailio only relays authenticated calls of subscribers.
      const invite = await lab.uas.answer.waitForMessage(`To: "Bob" <sip:${lab.numbers.answer}@ims.lab;user=phone>`);
      expect(invite).toContain(`INVITE sip:${lab.numbers.answer}@ims.lab;user=phone SIP/2.0`);
      expect(invite).toMatch(new RegExp(`From: "Alice" <sip:\\${ALICE}@ims.lab>;tag=`));
      const hangUp = await SipExchange.start(lab.uas.answer);
      const del = await gw.request('DELETE', `${CALLS}/${created.mediaSessionId}`, { token });
      expect(del.status).toBe(204);
      const bye = await hangUp.received('BYE');
      expect(bye.startLine).toMatch(/^BYE sip:uas@/);
      expect((await hangUp.finalResponseTo(bye)).status).toBe(200);
      expect((await gw.request('GET', `${CALLS}/${created.mediaSessionId}`, { token })).status).toBe(404);
      expect((await gw.request('DELETE', `${CALLS}/${created.mediaSessionId}`, { token })).status).toBe(404);
    });

    it('accepts the seed body on POST /webrtc/sessions, ignoring the client status and id', async () => {
      const res = await call(lab.numbers.answer, { status: 'Connected', mediaSessionId: 'client-chosen' }, '/webrtc/sessions');
      expect(res.status).toBe(201);
      const s = res.body as Session;
      expect(s.status).toBe('Initial');
      expect(s.mediaSessionId).not.toBe('client-chosen');
      await until(s.mediaSessionId, 'Connected');
      expect((await gw.request('DELETE', `${CALLS}/${s.mediaSessionId}`, { token })).status).toBe(204);
    });
  });

  it('reports Busy for a busy number (486)', async () => {
    const { mediaSessionId } = (await call(lab.numbers.busy)).body as Session;
    await until(mediaSessionId, 'Busy');
  });

  it('reports NotReachable for a subscriber who is not registered (480)', async () => {
    const { mediaSessionId } = (await call('+17085854000')).body as Session;
    await until(mediaSessionId, 'NotReachable');
  });

  /** Outgoing calls that ended with `status`, from /metrics (all SIP codes). */
  const outcomes = async (status: string): Promise<number> =>
    (await gw.request('GET', '/metrics')).text
      .split('\n')
      .filter((l) => l.startsWith('gateway_call_outcomes_total{') && l.includes('direction="outgoing"') && l.includes(`status="${status}"`))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);

  it('CANCELs a ringing call on DELETE and reports SessionCancelled', async () => {
    const exchange = await SipExchange.start(lab.uas.noAnswer);
    const cancelledBefore = await outcomes('SessionCancelled');
    const { mediaSessionId } = (await call(lab.numbers.noAnswer)).body as Session;
    await until(mediaSessionId, 'Ringing');
    const invite = await exchange.received('INVITE');
    expect((await gw.request('DELETE', `${CALLS}/${mediaSessionId}`, { token })).status).toBe(204);
    // RFC 3261 §9.1: the CANCEL names the INVITE's Call-ID and CSeq number; the INVITE ends 487
    const cancel = await exchange.received('CANCEL');
    expect([cancel.callId, cancel.cseq]).toEqual([invite.callId, invite.cseq]);
    expect((await exchange.finalResponseTo(cancel)).status).toBe(200);
    expect((await exchange.finalResponseTo(invite)).status).toBe(487);
    await eventually(async () => ((await outcomes('SessionCancelled')) === cancelledBefore + 1 ? true : undefined), 3000, 'one more SessionCancelled outcome');
    expect((await gw.request('GET', `${CALLS}/${mediaSessionId}`, { token })).status).toBe(404);
  });

  it('CANCELs at the ring timeout and reports NoAnswer', async () => {
    const exchange = await SipExchange.start(lab.uas.noAnswer);
    const { mediaSessionId } = (await call(lab.numbers.noAnswer)).body as Session;
    await until(mediaSessionId, 'Ringing');
    const invite = await exchange.received('INVITE');
    await until(mediaSessionId, 'NoAnswer', gw, 8000);
    const cancel = await exchange.received('CANCEL');
    expect(cancel.callId).toBe(invite.callId);
    expect((await exchange.finalResponseTo(invite)).status).toBe(487);
    expect((await statusOf(mediaSessionId)).status).toBe('NoAnswer');
  });

  it('reports Terminated when the far end hangs up (BYE answered 200)', async () => {
    const exchange = await SipExchange.start(lab.uas.bye);
    const { mediaSessionId } = (await call(lab.numbers.remoteBye)).body as Session;
    await until(mediaSessionId, 'Connected');
    await until(mediaSessionId, 'Terminated', gw, 8000);
    const bye = await exchange.sent('BYE');
    expect((await exchange.finalResponseTo(bye)).status).toBe(200);
  });

  describe('header injection', () => {
    it.each([
      [{ originatorName: 'Alice\r\nP-Asserted-Identity: <sip:+1911@evil>' }],
      [{ receiverName: 'Bob\nX-Evil: 1' }],
      [{ receiverName: 'Bob\u0000' }],
      [{ receiverAddress: 'sip:bob@example.com>\r\nX-Evil: 1' }],
      [{ receiverAddress: 'sip:bob@example.com;x="a b"' }],
      [{ offer: { sdp: 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\u0007\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\n' } }],
    ])('refuses %j with 400 and sends nothing', async (over) => {
      const exchange = await SipExchange.start(lab.uas.answer);
      const res = await call(lab.numbers.answer, over);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
      // positive control and barrier: a clean call placed right after reaches the far end, and its INVITE is the only one since the mark
      const control = await call(lab.numbers.answer);
      expect(control.status).toBe(201);
      await exchange.received('INVITE');
      const received = (await exchange.messages()).filter((m) => m.direction === 'received');
      // one call (a UDP retransmission of its INVITE would share the Call-ID)
      expect(new Set(received.filter((m) => m.method === 'INVITE' && m.status === undefined).map((m) => m.callId)).size).toBe(1);
      const lines = received.flatMap((m) => [m.startLine, ...Object.entries(m.headers).map(([k, v]) => `${k}: ${v.join(', ')}`), m.body]);
      expect(lines.filter((l) => /X-Evil|evil/i.test(l))).toEqual([]);
      const { mediaSessionId } = control.body as Session;
      await until(mediaSessionId, 'Connected');
      await gw.request('DELETE', `${CALLS}/${mediaSessionId}`, { token });
    });

    it('escapes quotes and backslashes of display names in From and To', async () => {
      const res = await call(lab.numbers.answer, { originatorName: 'Al "the pal" \\o/', receiverName: 'Zoë' });
      expect(res.status).toBe(201);
      const trace = await lab.uas.answer.waitForMessage('"Al \\"the pal\\" \\\\o/"');
      expect(trace).toContain('"Al \\"the pal\\" \\\\o/" <sip:');
      const { mediaSessionId } = res.body as Session;
      await until(mediaSessionId, 'Connected');
      await gw.request('DELETE', `${CALLS}/${mediaSessionId}`, { token });
    });
  });

  it('answers 400 without the registrationId header and 404 for an unknown registration', async () => {
    const missing = await gw.request('POST', CALLS, { token, body: { originatorAddress: `tel:${ALICE}`, receiverAddress: 'tel:+15550009999', offer: { sdp: OFFER } } });
    expect(missing.status).toBe(400);
    const unknown = await gw.request('POST', CALLS, {
      token,
      headers: { registrationid: randomUUID() },
      body: { originatorAddress: `tel:${ALICE}`, receiverAddress: 'tel:+15550009999', offer: { sdp: OFFER } },
    });
    expect(unknown.status).toBe(404);
  });

  it('a DELETE that reaches another process sharing the same Redis ends the call: the owner sends the BYE', async () => {
    const a = await startGateway(lab, idp, { REDIS_KEY_PREFIX: 'shared:' });
    const b = await spawnGatewayProcess({ ...a.env, SIP_LISTEN_PORT: String(await freePort('both')) });
    try {
      const reg = await a.request('POST', REG, { token, body: { deviceId: randomUUID() } });
      const rid = (reg.body as { registrationId: string }).registrationId;
      const res = await a.request('POST', CALLS, {
        token,
        headers: { registrationid: rid },
        body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${lab.numbers.answer}`, offer: { sdp: OFFER } },
      });
      const { mediaSessionId } = res.body as Session;
      await until(mediaSessionId, 'Connected', a);
      const hangUp = await SipExchange.start(lab.uas.answer);
      expect((await b.request('DELETE', `${CALLS}/${mediaSessionId}`, { token })).status).toBe(204);
      const bye = await hangUp.received('BYE');
      // forwarded to the instance that owns the dialog (README "Running several instances"): its Via, behind Kamailio's
      const via = bye.headers['via']?.join('\n') ?? '';
      expect(via).toMatch(new RegExp(`SIP/2.0/UDP [^\\n]*:${a.sipPort}`));
      expect(via).not.toMatch(new RegExp(`SIP/2.0/UDP [^\\n]*:${b.sipPort}[;\\s]`));
      expect((await hangUp.finalResponseTo(bye)).status).toBe(200);
      expect((await a.request('GET', `${CALLS}/${mediaSessionId}`, { token })).status).toBe(404);
    } finally {
      await a.close();
      await b.stop();
    }
  });
});

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createTestIdp, TestIdp } from '../support/auth';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { Lab, runSippUac, startLab } from '../support/lab';
import { startSink, TestSink } from '../support/sink';
import { SipExchange } from '../support/sip-trace';
import { REPO_ROOT } from '../support/proc';
import { LabPki, makeLabPki } from '../support/tls-certs';

const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const ALICE = '+17085852753';
const BOB = '+17085854000';
const CAROL = '+17085850001';
const TYPES = ['session-invitation', 'session-status'].map((t) => `org.camaraproject.webrtc-events.v0.${t}`);
const SCOPES = [
  'webrtc-registration:sessions:create',
  'webrtc-call-handling:sessions:create',
  'webrtc-call-handling:sessions:read',
  'webrtc-call-handling:sessions:write',
  'webrtc-call-handling:sessions:delete',
  'webrtc-events:read',
  ...TYPES.map((t) => `webrtc-events:${t}:create`),
].join(' ');
const sdp = (who: string): string => `v=0\r\no=${who} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 42988 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n`;

interface Health {
  status: string;
  error?: Record<string, { status: string; message?: string }>;
  info?: Record<string, { status: string }>;
}

/** Established TCP connections whose local port is `port` (ss from iproute2): connections peers opened to our listener. */
function acceptedConnections(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], (err, out) =>
      err ? reject(new Error(`ss: ${err.message}`)) : resolve(out.split('\n').filter((l) => l.trim() !== '').length),
    );
  });
}

/**
 * SIP over TLS (SIP_TRANSPORT=tls) against Kamailio's tls module, with certificates made for this
 * run (tls-certs.ts): the gateway verifies Kamailio's certificate against the lab CA and the
 * proxy's address; the SIPp far ends stay on UDP behind Kamailio.
 */
describe('SIP over TLS to the lab IMS core (RFC 3261 §26.2, RFC 5923)', () => {
  let lab: Lab;
  let idp: TestIdp;
  let pki: LabPki;
  let gw: GatewayUnderTest;

  const tlsEnv = (caFile: string): Record<string, string> => ({
    SIP_TRANSPORT: 'tls',
    SIP_OUTBOUND_PROXY: lab.kamailio.outboundProxyTls ?? '',
    SIP_TLS_CERT_FILE: pki.gateway.certFile,
    SIP_TLS_KEY_FILE: pki.gateway.keyFile,
    SIP_TLS_CA_FILE: caFile,
  });
  const register = async (g: GatewayUnderTest, phone: string): Promise<{ token: string; registrationId: string; deviceId: string; status: number; body: unknown }> => {
    const token = await idp.token({ phone_number: phone, scope: SCOPES });
    const deviceId = randomUUID();
    const res = await g.request('POST', REG, { token, body: { deviceId } });
    return { token, deviceId, status: res.status, body: res.body, registrationId: (res.body as { registrationId?: string }).registrationId ?? '' };
  };
  const statusOf = async (token: string, id: string): Promise<string | undefined> => ((await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status?: string }).status;

  beforeAll(async () => {
    pki = await makeLabPki();
    idp = await createTestIdp();
    lab = await startLab({ redis: false, ringMs: 50, kamailio: { tls: { ...pki.kamailio, caFile: pki.caFile } } });
    gw = await startGateway(lab, idp, tlsEnv(pki.caFile));
  });
  afterAll(async () => {
    await gw?.close();
    await lab?.stop();
  });

  it('registers over TLS: Kamailio holds a TLS binding with a transport=tls Contact', async () => {
    const alice = await register(gw, ALICE);
    expect(alice.status).toBe(201);
    const [binding] = await lab.kamailio.locations(ALICE);
    expect(binding?.contact).toContain(`${alice.registrationId}@127.0.0.1:${gw.sipPort};transport=tls`);
    expect(binding?.socket).toBe(`tls:127.0.0.1:${lab.kamailio.tlsPort}`);
  });

  it('places a call over TLS: Via SIP/2.0/TLS with alias, Record-Route across TLS and UDP, BYE on the route set', async () => {
    const alice = await register(gw, ALICE);
    expect(alice.status).toBe(201);
    const exchange = await SipExchange.start(lab.uas.answer);
    const res = await gw.request('POST', CALLS, {
      token: alice.token,
      headers: { registrationid: alice.registrationId },
      body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${lab.numbers.answer}`, offer: { sdp: sdp('alice') } },
    });
    expect(res.status).toBe(201);
    const id = (res.body as { mediaSessionId: string }).mediaSessionId;
    const invite = await exchange.received('INVITE');
    // our hop, below Kamailio's UDP one: TLS, with the RFC 5923 alias
    const vias = (invite.headers['via'] ?? []).flatMap((v) => v.split(/,(?=\s*SIP\/)/)).map((v) => v.trim());
    expect(vias[1]).toMatch(new RegExp(`^SIP/2\\.0/TLS 127\\.0\\.0\\.1:${gw.sipPort};`));
    expect(vias[1]?.split(';').slice(1)).toEqual(expect.arrayContaining(['alias', expect.stringMatching(/^branch=z9hG4bK/)]));
    // Kamailio changed transport: it record-routes twice, once for its TLS side (RFC 3261 §16.6 step 4)
    expect((invite.headers['record-route'] ?? []).join(',')).toContain(`127.0.0.1:${lab.kamailio.tlsPort};transport=tls`);
    await eventually(async () => (await statusOf(alice.token, id)) === 'Connected', 10_000, 'Connected');
    expect((await gw.request('DELETE', `${CALLS}/${id}`, { token: alice.token })).status).toBe(204);
    const bye = await exchange.received('BYE');
    expect(bye.callId).toBe(invite.callId);
    expect((await exchange.finalResponseTo(bye)).status).toBe(200);
  });

  it('receives a call over the connection it opened (no connection to our listener) and ends it', async () => {
    const bob = await register(gw, BOB);
    expect(bob.status).toBe(201);
    const sink: TestSink = await startSink();
    try {
      const sub = await gw.request('POST', '/webrtc-events/v0.3/subscriptions', {
        token: bob.token,
        body: { protocol: 'HTTP', sink: sink.url, types: TYPES, config: { subscriptionDetail: { deviceId: bob.deviceId } } },
      });
      expect(sub.status).toBe(201);
      const uac = runSippUac({ scenario: 'uac-call-remote-bye', proxyPort: lab.kamailio.port, callee: BOB, caller: '+15550004321', timeoutS: 20 });
      const invitation = await sink.waitFor((e) => e.body.type.endsWith('session-invitation'), 10_000, 'session-invitation');
      const id = String(invitation.body.data.mediaSessionId);
      const answered = await gw.request('PUT', `${CALLS}/${id}/status`, { token: bob.token, body: { status: 'Connected', answer: { sdp: sdp('bob') } } });
      expect(answered.status).toBe(200);
      await eventually(async () => (await statusOf(bob.token, id)) === 'Connected', 10_000, 'Connected (ACK received)');
      expect(await acceptedConnections(gw.sipPort)).toBe(0);
      expect((await gw.request('DELETE', `${CALLS}/${id}`, { token: bob.token })).status).toBe(204);
      expect((await uac).exitCode).toBe(0);
    } finally {
      await sink.close();
    }
  });

  it('connects again after Kamailio restarts', async () => {
    await lab.kamailio.restart();
    const carol = await register(gw, CAROL);
    expect(carol.status).toBe(201);
    const [binding] = await lab.kamailio.locations(CAROL);
    expect(binding?.socket).toBe(`tls:127.0.0.1:${lab.kamailio.tlsPort}`);
  });

  describe('with a CA that did not sign Kamailio', () => {
    let wrong: GatewayUnderTest;
    beforeAll(async () => {
      wrong = await startGateway(lab, idp, tlsEnv(pki.otherCaFile));
    });
    afterAll(async () => {
      await wrong?.close();
    });

    it('refuses Kamailio: the registration is 503 UNAVAILABLE and /health/ready names the TLS reason', async () => {
      const reg = await register(wrong, ALICE);
      expect(reg.status).toBe(503);
      expect(reg.body).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
      const ready = await eventually(
        async () => {
          const res = await wrong.request('GET', '/health/ready');
          const body = res.body as Health;
          return res.status === 503 && body.error?.sipProxy ? body : undefined;
        },
        15_000,
        'readiness naming the SIP proxy',
      );
      expect(ready.error?.sipProxy?.message).toContain(`TLS handshake with 127.0.0.1:${lab.kamailio.tlsPort} failed: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)`);
    });
  });
});

describe('SIP over TLS: a bad certificate file stops the boot', () => {
  it('exits 78 (EX_CONFIG) with a message naming each bad variable', async () => {
    const pki = await makeLabPki();
    const env = {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'silent',
      SIP_TRANSPORT: 'tls',
      SIP_OUTBOUND_PROXY: 'sip:127.0.0.1:5061;transport=tls',
      SIP_TLS_CERT_FILE: pki.gateway.certFile,
      SIP_TLS_KEY_FILE: pki.kamailio.keyFile, // not the certificate's key
      SIP_TLS_CA_FILE: join(pki.dir, 'no-such-ca.pem'),
    };
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--require', 'ts-node/register/transpile-only', join(REPO_ROOT, 'src', 'main.ts')], { cwd: REPO_ROOT, env, timeout: 60_000 }, (_err, _out, stderr) =>
        resolve({ code: child.exitCode, stderr }),
      );
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('SIP_TLS_KEY_FILE: the key does not belong to the certificate in SIP_TLS_CERT_FILE');
    expect(result.stderr).toContain(`SIP_TLS_CA_FILE: cannot read ${join(pki.dir, 'no-such-ca.pem')} (ENOENT)`);
    expect(result.stderr).not.toContain('PRIVATE KEY');
  });
});

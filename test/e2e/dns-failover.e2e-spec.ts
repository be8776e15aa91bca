import { randomUUID } from 'node:crypto';
import { createSocket, Socket } from 'node:dgram';
import { createTestIdp, TestIdp } from '../support/auth';
import { DnsServer, startDnsServer } from '../support/dns-lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { KamailioInstance, Lab, SippUas, startKamailio, startLab, startSippUas } from '../support/lab';
import { parseSipText } from '../../src/sessions/emergency/__testing__/sip-body';
import { SipExchange, TracedMessage } from '../support/sip-trace';

const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const SCOPES = ['webrtc-registration:sessions:create', 'webrtc-call-handling:sessions:create', 'webrtc-call-handling:sessions:read', 'webrtc-call-handling:sessions:delete'].join(' ');
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 42988 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n';
const ALICE = '+17085852753';
const BOB = '+17085854000';
const CAROL = '+17085850001';

interface TargetReport {
  target: string;
  name: string;
  state: string;
  lastError?: string;
}
interface Readiness {
  status: string;
  info?: { sipTargets?: { targets: TargetReport[] } };
  error?: { sipTargets?: { targets: TargetReport[] } };
}

/**
 * RFC 3263 against real parts: dnsmasq serves NAPTR (SIP+D2U) → SRV (pcscf-a priority 10, pcscf-b
 * priority 20) → A records, two Kamailio instances play the two P-CSCFs, and the gateway is only
 * told `sip:pcscf.ims.lab`. Pcscf-a is stopped mid-test (its port then swallows datagrams, as a
 * dead host would), and restarted.
 */
describe('SIP_OUTBOUND_PROXY by DNS (RFC 3263): two P-CSCFs, one stopped', () => {
  let lab: Lab;
  let pcscfA: KamailioInstance;
  let pcscfB: KamailioInstance;
  let overloaded: SippUas;
  let dns: DnsServer;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let a: string;
  let b: string;

  const readiness = async (): Promise<{ status: number; body: Readiness; targets: Record<string, TargetReport> }> => {
    const res = await gw.request('GET', '/health/ready');
    const body = res.body as Readiness;
    const list = body.info?.sipTargets?.targets ?? body.error?.sipTargets?.targets ?? [];
    return { status: res.status, body, targets: Object.fromEntries(list.map((t) => [t.target, t])) };
  };
  const metric = async (name: string, labels: string): Promise<number | undefined> => {
    const text = (await gw.request('GET', '/metrics')).text;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((p) => l.includes(p)));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  const register = async (phone: string): Promise<string> => {
    const token = await idp.token({ phone_number: phone, scope: SCOPES });
    const res = await gw.request('POST', REG, { token, body: { deviceId: randomUUID() } });
    expect(res.status).toBe(201);
    return (res.body as { registrationId: string }).registrationId;
  };
  /** A call to the answering far end, connected then hung up; returns the INVITE the far end got. */
  const call = async (phone: string, registrationId: string): Promise<TracedMessage> => {
    const token = await idp.token({ phone_number: phone, scope: SCOPES });
    const exchange = await SipExchange.start(lab.uas.answer);
    const res = await gw.request('POST', CALLS, {
      token,
      headers: { registrationid: registrationId },
      body: { originatorAddress: `tel:${phone}`, receiverAddress: `tel:${lab.numbers.answer}`, offer: { sdp: OFFER } },
    });
    expect(res.status).toBe(201);
    const id = (res.body as { mediaSessionId: string }).mediaSessionId;
    const invite = await exchange.received('INVITE');
    expect((await exchange.finalResponseTo(invite)).status).toBe(200);
    await eventually(async () => ((await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status?: string }).status === 'Connected', 10_000, 'call Connected');
    await gw.request('DELETE', `${CALLS}/${id}`, { token });
    return invite;
  };
  /** Which P-CSCF relayed the far end's INVITE: Kamailio's own Via names its port. */
  const relayedBy = (invite: { headers: Record<string, string[] | undefined> }): string[] => (invite.headers.via ?? []).map((v) => /127\.0\.0\.1:(\d+)/.exec(v)?.[1] ?? '');

  beforeAll(async () => {
    lab = await startLab({ redis: false, ringMs: 50 });
    pcscfA = lab.kamailio;
    pcscfB = await startKamailio({ uasPort: lab.uas.answer.port, busyPort: lab.uas.busy.port, psapPort: lab.uas.psap.port, noAnswerPort: lab.uas.noAnswer.port, byePort: lab.uas.bye.port });
    // a P-CSCF that answers every REGISTER 503, no Retry-After
    overloaded = await startSippUas('uas-registrar-503', { name: 'overloaded' });
    a = `127.0.0.1:${pcscfA.port}`;
    b = `127.0.0.1:${pcscfB.port}`;
    dns = await startDnsServer({
      naptr: [
        { name: 'pcscf.ims.lab', order: 10, preference: 10, service: 'SIP+D2T', replacement: '_sip._tcp.pcscf.ims.lab' },
        { name: 'pcscf.ims.lab', order: 20, preference: 10, service: 'SIP+D2U', replacement: '_sip._udp.pcscf.ims.lab' },
      ],
      srv: [
        { name: '_sip._udp.pcscf.ims.lab', target: 'pcscf-b.ims.lab', port: pcscfB.port, priority: 20, weight: 10 },
        { name: '_sip._udp.pcscf.ims.lab', target: 'pcscf-a.ims.lab', port: pcscfA.port, priority: 10, weight: 10 },
        // over TCP the other way round: pcscf-b first
        { name: '_sip._tcp.pcscf.ims.lab', target: 'pcscf-a.ims.lab', port: pcscfA.port, priority: 20, weight: 10 },
        { name: '_sip._tcp.pcscf.ims.lab', target: 'pcscf-b.ims.lab', port: pcscfB.port, priority: 10, weight: 10 },
        // no NAPTR for this name: the SRV of the transport (RFC 3263 §4.1)
        { name: '_sip._udp.busy.ims.lab', target: 'overloaded.ims.lab', port: overloaded.port, priority: 10, weight: 10 },
        { name: '_sip._udp.busy.ims.lab', target: 'pcscf-b.ims.lab', port: pcscfB.port, priority: 20, weight: 10 },
      ],
      a: [
        { name: 'pcscf-a.ims.lab', address: '127.0.0.1' },
        { name: 'pcscf-b.ims.lab', address: '127.0.0.1' },
        { name: 'overloaded.ims.lab', address: '127.0.0.1' },
      ],
    });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp, {
      SIP_OUTBOUND_PROXY: 'sip:pcscf.ims.lab;transport=udp',
      SIP_DNS_SERVERS: dns.server,
      SIP_PROXY_PROBE_INTERVAL_MS: '500',
      SIP_PROXY_HOLD_DOWN_MS: '1000',
      SIP_TRANSACTION_TIMEOUT_MS: '3000',
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await Promise.allSettled([pcscfB?.stop(), overloaded?.stop(), dns?.stop(), lab?.stop()]);
  });

  it('finds both P-CSCFs through NAPTR and SRV, and registers and calls through the priority-10 one', async () => {
    const ready = await eventually(
      async () => {
        const r = await readiness();
        return r.targets[a]?.state === 'up' && r.targets[b]?.state === 'up' ? r : undefined;
      },
      10_000,
      'both targets answering OPTIONS',
    );
    expect(ready.status).toBe(200);
    expect(ready.targets[a]).toMatchObject({ name: 'pcscf-a.ims.lab', state: 'up' });
    expect(ready.targets[b]).toMatchObject({ name: 'pcscf-b.ims.lab', state: 'up' });

    const registrationId = await register(ALICE);
    expect((await pcscfA.locations(ALICE)).map((l) => l.contact)).toEqual([expect.stringContaining(registrationId)]);
    expect(await pcscfB.locations(ALICE)).toEqual([]);
    expect(relayedBy(await call(ALICE, registrationId))).toContain(String(pcscfA.port));
  }, 30_000);

  it('with pcscf-a stopped, the REGISTER sent to it goes again to pcscf-b (same Call-ID), calls go through pcscf-b, and pcscf-a is reported down', async () => {
    await pcscfA.stop();
    // a dead P-CSCF's address: datagrams arrive, nothing answers
    const blackhole: Socket = createSocket('udp4');
    const swallowed: string[] = [];
    blackhole.on('message', (m) => swallowed.push(m.toString('utf8')));
    await new Promise<void>((resolve) => blackhole.bind(pcscfA.port, '127.0.0.1', resolve));
    try {
      const registrationId = await register(BOB);
      const toDead = swallowed.map(parseSipText).find((m) => m.startLine.startsWith('REGISTER '));
      expect(toDead?.startLine).toBe('REGISTER sip:ims.lab SIP/2.0');
      const [binding] = await pcscfB.locations(BOB);
      expect(binding?.contact).toContain(registrationId);
      // RFC 3263 §4.3: the same request again (same Call-ID), a new transaction on the next target
      expect(binding?.callId).toBe(toDead?.headers['call-id']?.[0]);
      expect(relayedBy(await call(BOB, registrationId))).toContain(String(pcscfB.port));

      const r = await eventually(
        async () => {
          const x = await readiness();
          return x.targets[a]?.state === 'down' ? x : undefined;
        },
        10_000,
        'pcscf-a reported down',
      );
      expect(r.status).toBe(200); // one P-CSCF left: still ready
      expect(r.targets[a]?.lastError).toMatch(/timed out/);
      expect(r.targets[b]?.state).toBe('up');
      expect(await metric('gateway_sip_target_up', `target="${a}"`)).toBe(0);
      expect(await metric('gateway_sip_target_up', `target="${b}"`)).toBe(1);
      expect(await metric('gateway_sip_target_failures_total', `target="${a}",kind="timeout"`)).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((resolve) => blackhole.close(() => resolve()));
    }
  }, 40_000);

  it('pcscf-a restarted: the OPTIONS probe sees it answer, and new registrations go to it again', async () => {
    await pcscfA.start();
    await eventually(async () => (await readiness()).targets[a]?.state === 'up', 10_000, 'pcscf-a reported up again');
    expect(await metric('gateway_sip_target_up', `target="${a}"`)).toBe(1);
    const registrationId = await register(CAROL);
    expect((await pcscfA.locations(CAROL)).map((l) => l.contact)).toEqual([expect.stringContaining(registrationId)]);
  }, 30_000);

  it('over TCP: the SIP+D2T NAPTR and its SRV order apply, and a refused connection fails over at once', async () => {
    await gw.close();
    gw = await startGateway(lab, idp, {
      SIP_OUTBOUND_PROXY: 'sip:pcscf.ims.lab',
      SIP_TRANSPORT: 'tcp',
      SIP_DNS_SERVERS: dns.server,
      SIP_PROXY_PROBE_INTERVAL_MS: '500',
      SIP_PROXY_HOLD_DOWN_MS: '1000',
      // far longer than the test: only a transport error can explain a quick failover
      SIP_TRANSACTION_TIMEOUT_MS: '30000',
    });
    const before = await eventually(
      async () => {
        const r = await readiness();
        return r.targets[a]?.state === 'up' && r.targets[b]?.state === 'up' ? r : undefined;
      },
      10_000,
      'both TCP targets answering',
    );
    expect(Object.values(before.targets).map((t) => [t.target, t.name])).toEqual([
      [b, 'pcscf-b.ims.lab'],
      [a, 'pcscf-a.ims.lab'],
    ]);
    await pcscfB.stop();
    try {
      const started = Date.now();
      const registrationId = await register(ALICE);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await pcscfA.locations(ALICE)).some((l) => l.contact.includes(registrationId) && l.contact.includes('transport=tcp'))).toBe(true);
      const r = await eventually(async () => ((await readiness()).targets[b]?.state === 'down' ? readiness() : undefined), 5_000, 'pcscf-b reported down');
      // a transport failure (connection refused or closed), no timeout
      expect(r.targets[b]?.lastError).toMatch(/ECONNREFUSED|closed/);
      expect(await metric('gateway_sip_target_failures_total', `target="${b}",kind="transport"`)).toBeGreaterThan(0);
      expect(await metric('gateway_sip_target_failures_total', `target="${b}",kind="timeout"`)).toBe(0);
    } finally {
      await pcscfB.start();
    }
  }, 40_000);

  it('a P-CSCF answering 503 without Retry-After: the REGISTER goes again to the next one (RFC 3263 §4.3), and the first stays in use', async () => {
    await gw.close();
    // Timer F far beyond the test: the overloaded P-CSCF's silence to OPTIONS cannot mark it down meanwhile
    gw = await startGateway(lab, idp, { SIP_OUTBOUND_PROXY: 'sip:busy.ims.lab', SIP_DNS_SERVERS: dns.server, SIP_TRANSACTION_TIMEOUT_MS: '30000' });
    const first = `127.0.0.1:${overloaded.port}`;
    const exchange = await SipExchange.start(overloaded);
    const registrationId = await register(BOB);
    const refused = await exchange.received('REGISTER');
    expect((await exchange.finalResponseTo(refused)).status).toBe(503);
    const binding = (await pcscfB.locations(BOB)).find((l) => l.contact.includes(registrationId));
    expect(binding?.callId).toBe(refused.callId);
    const r = await readiness();
    // a 503 proves the P-CSCF alive: only a Retry-After would take it out of use (RFC 3261 §21.5.4)
    expect(r.targets[first]).toMatchObject({ name: 'overloaded.ims.lab', state: 'up', lastError: '503 Service Unavailable' });
    expect(await metric('gateway_sip_target_failures_total', `target="${first}",kind="unavailable"`)).toBe(1);
  }, 30_000);
});

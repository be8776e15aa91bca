/**
 * RFC 3262 against a far end that insists on it (test/scenarios/uas-reliable-183-then-200.xml),
 * through a real Kamailio, over UDP and TCP towards the proxy.
 */
import pino from 'pino';
import { loadConfig } from '../../src/config/app-config';
import { Secret } from '../../src/config/secret';
import { SipUserAgent } from '../../src/sip/sip-user-agent';
import type { CallSignal } from '../../src/sip/sip-gateway';
import { freePort, KamailioInstance, LAB_SUBSCRIBERS, SippUas, startKamailio, startSippUas } from '../support/lab';

const USER = '+17085852753';
const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');
const logger = pino({ level: process.env.SIP_TEST_LOG ?? 'silent' });

let kamailio: KamailioInstance;
let uas: SippUas;
const gateways: SipUserAgent[] = [];

beforeAll(async () => {
  uas = await startSippUas('uas-reliable-183-then-200', { name: 'reliable183' });
  kamailio = await startKamailio({ uasPort: uas.port });
}, 60_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.allSettled([uas.stop(), kamailio.stop()]);
});

async function gateway(transport: 'udp' | 'tcp'): Promise<SipUserAgent> {
  const config = loadConfig({
    SIP_OUTBOUND_PROXY: transport === 'tcp' ? kamailio.outboundProxyTcp : kamailio.outboundProxy,
    SIP_DOMAIN: 'ims.lab',
    SIP_LISTEN_ADDRESS: '127.0.0.1',
    SIP_LISTEN_PORT: String(await freePort(transport)),
    SIP_TRANSPORT: transport,
  });
  const gw = new SipUserAgent(config, logger);
  gateways.push(gw);
  await gw.start();
  return gw;
}

describe.each(['udp', 'tcp'] as const)('Alice calls an element that requires 100rel (%s)', (transport) => {
  it('PRACKs the reliable 183 with its RSeq, reports it once, and connects', async () => {
    const gw = await gateway(transport);
    const signals: CallSignal[] = [];
    let callId = '';
    const answered = new Promise<CallSignal>((resolve) => {
      void gw
        .invite(
          {
            contactUser: 'reg-rel',
            from: { uri: `sip:${USER}@ims.lab` },
            to: { uri: 'sip:+15550007777@ims.lab' },
            requestUri: 'sip:+15550007777@ims.lab',
            body: { contentType: 'application/sdp', content: SDP },
            credentials: { username: USER, password: new Secret(LAB_SUBSCRIBERS[USER] ?? '') },
          },
          (s) => {
            signals.push(s);
            if (s.kind !== 'provisional') resolve(s);
          },
        )
        .then((h) => (callId = h.callId));
    });
    const final = await answered;
    expect(final).toMatchObject({ kind: 'answered', code: 200 });
    expect(signals.filter((s) => s.kind === 'provisional' && s.code === 183)).toHaveLength(1);
    // SIPp's trace separates messages with dashed lines: the PRACK of this very call
    const prack = (await uas.messages()).split(/\n-{5,}/).find((m) => m.includes('PRACK sip:') && m.includes(callId));
    expect(prack).toMatch(/RAck: 1 \d+ INVITE/);
    if (final.kind === 'answered') await gw.hangUp(final.dialog);
    await uas.waitForMessage(/BYE sip:[\s\S]*SIP\/2\.0 200 OK[\s\S]*$/, 10_000);
  }, 30_000);
});

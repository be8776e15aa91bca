/**
 * RFC 4028 session timers against SIPp far ends behind a real Kamailio, over UDP and TCP towards
 * the proxy: a 422 retried with the offered Min-SE, then our refresh (UPDATE) when the 2xx makes us
 * the refresher (test/scenarios/uas-422-then-200-we-refresh.xml); the expiry reported when the far
 * end took the refresher role and went silent (uas-200-refresher-uas-then-silent.xml). Timer
 * seconds are shrunk (sessionTimerUnitMs) so that a 90–120 s interval passes in a few seconds.
 */
import pino from 'pino';
import { loadConfig } from '../../src/config/app-config';
import { Secret } from '../../src/config/secret';
import { SipUserAgent } from '../../src/sip/sip-user-agent';
import type { CallSignal } from '../../src/sip/sip-gateway';
import { parseSessionExpires } from '../../src/sip/user-agents/session-timer';
import { freePort, KamailioInstance, LAB_SUBSCRIBERS, SippUas, startKamailio, startSippUas } from '../support/lab';
import { SipExchange } from '../support/sip-trace';

const USER = '+17085852753';
const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');
const UNIT_MS = 25;
const logger = pino({ level: process.env.SIP_TEST_LOG ?? 'silent' });

const gateways: SipUserAgent[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
});

async function gateway(kamailio: KamailioInstance, transport: 'udp' | 'tcp'): Promise<SipUserAgent> {
  const config = loadConfig({
    SIP_OUTBOUND_PROXY: transport === 'tcp' ? kamailio.outboundProxyTcp : kamailio.outboundProxy,
    SIP_DOMAIN: 'ims.lab',
    SIP_LISTEN_ADDRESS: '127.0.0.1',
    SIP_LISTEN_PORT: String(await freePort(transport)),
    SIP_TRANSPORT: transport,
    SIP_SESSION_EXPIRES_S: '90',
    SIP_MIN_SE_S: '90',
  });
  const gw = new SipUserAgent(config, logger, { sessionTimerUnitMs: UNIT_MS });
  gateways.push(gw);
  await gw.start();
  return gw;
}

function call(gw: SipUserAgent, to: string): Promise<{ final: CallSignal; callId: string }> {
  return new Promise((resolve) => {
    let callId = '';
    void gw
      .invite(
        {
          contactUser: 'reg-st',
          from: { uri: `sip:${USER}@ims.lab` },
          to: { uri: `sip:${to}@ims.lab` },
          requestUri: `sip:${to}@ims.lab`,
          body: { contentType: 'application/sdp', content: SDP },
          credentials: { username: USER, password: new Secret(LAB_SUBSCRIBERS[USER] ?? '') },
        },
        (s) => {
          if (s.kind !== 'provisional') resolve({ final: s, callId });
        },
      )
      .then((h) => (callId = h.callId));
  });
}

describe('a far end that answers 422, then makes us the refresher (RFC 4028 §6, §7.2, §7.4)', () => {
  let kamailio: KamailioInstance;
  let uas: SippUas;
  beforeAll(async () => {
    uas = await startSippUas('uas-422-then-200-we-refresh', { name: 'st422' });
    kamailio = await startKamailio({ uasPort: uas.port });
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([uas?.stop(), kamailio?.stop()]);
  });

  it.each(['udp', 'tcp'] as const)(
    'retries with Session-Expires = Min-SE 120, connects, and refreshes in UPDATE at half the interval (%s)',
    async (transport) => {
      const gw = await gateway(kamailio, transport);
      const refreshes: string[] = [];
      gw.on('dialog.refresh-due', (d) => refreshes.push(d.callId));
      const exchange = await SipExchange.start(uas);
      const { final } = await call(gw, '+15550004220');
      expect(final).toMatchObject({ kind: 'answered', code: 200 });
      if (final.kind !== 'answered') return;
      const invites = (await exchange.messages()).filter((m) => m.direction === 'received' && m.status === undefined && m.method === 'INVITE' && m.callId === final.dialog.callId);
      expect(invites.map((m) => m.headers['session-expires']?.[0])).toEqual(['90', '120']);
      expect(invites[1]?.headers['min-se']?.[0]).toBe('120');
      expect(invites[1]?.cseq).toBeGreaterThan(invites[0]?.cseq ?? 0);
      // the port asks the feature to refresh at 60 "s"; the feature answers with refreshSession
      const due = await new Promise<string>((resolve) => gw.once('dialog.refresh-due', (d) => resolve(d.callId)));
      expect(due).toBe(final.dialog.callId);
      const res = await gw.refreshSession(final.dialog, SDP);
      expect(res).toMatchObject({ outcome: 'accepted', code: 200 });
      const update = await exchange.received('UPDATE');
      expect(update.callId).toBe(final.dialog.callId);
      expect(parseSessionExpires(update.headers['session-expires']?.[0])).toEqual({ deltaS: 120, refresher: 'uac' });
      expect(update.body ?? '').toBe('');
      expect((await exchange.finalResponseTo(update)).status).toBe(200);
      await gw.hangUp(res.dialog);
      const bye = await exchange.received('BYE');
      expect((await exchange.finalResponseTo(bye)).status).toBe(200);
    },
    30_000,
  );
});

describe('a far end that takes the refresher role and goes silent (RFC 4028 §10)', () => {
  let kamailio: KamailioInstance;
  let uas: SippUas;
  beforeAll(async () => {
    uas = await startSippUas('uas-200-refresher-uas-then-silent', { name: 'stsilent' });
    kamailio = await startKamailio({ uasPort: uas.port });
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([uas?.stop(), kamailio?.stop()]);
  });

  it.each(['udp', 'tcp'] as const)(
    'never refreshes itself, and reports the expiry at interval − min(32, interval/3) (%s)',
    async (transport) => {
      const gw = await gateway(kamailio, transport);
      const refreshes: string[] = [];
      gw.on('dialog.refresh-due', (d) => refreshes.push(d.callId));
      const exchange = await SipExchange.start(uas);
      const started = Date.now();
      const { final } = await call(gw, '+15550000090');
      if (final.kind !== 'answered') throw new Error(`not answered: ${JSON.stringify(final)}`);
      const expired = await new Promise<string>((resolve) => gw.once('dialog.expired', (d) => resolve(d.callId)));
      expect(expired).toBe(final.dialog.callId);
      // 90 s interval: expiry at 60 s (× UNIT_MS), never before
      expect(Date.now() - started).toBeGreaterThanOrEqual(60 * UNIT_MS - 50);
      expect(refreshes).toEqual([]);
      // what the use case does on this event (session-updates.ts → state machine → hang-up)
      await gw.hangUp(final.dialog);
      const bye = await exchange.received('BYE');
      expect((await exchange.finalResponseTo(bye)).status).toBe(200);
      expect((await exchange.messages()).filter((m) => m.direction === 'received' && (m.method === 'UPDATE' || (m.method === 'INVITE' && m.status === undefined && m.cseq > 2)))).toEqual([]);
    },
    30_000,
  );
});

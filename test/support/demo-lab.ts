/**
 * The whole lab with real media, as `npm run lab` runs it and the Chromium tests use it:
 *
 *   rtpengine (media relay) ─ Kamailio ("IMS core", anchors phone calls in rtpengine) ─ SIPp far ends
 *   baresip (SIP phone, echo) registered to Kamailio
 *   Redis (optional) ─ the gateway (REST on 127.0.0.1) ─ the browser demo server (page + event relay)
 *
 * Everything on free loopback ports, stopped by PID (stop()).
 */
import { createTestIdp, TestIdp } from './auth';
import { eventually, GatewayUnderTest, startGateway } from './gateway';
import { freePort, Lab, LAB_SUBSCRIBERS, startLab } from './lab';
import { BaresipInstance, LAB_PHONE, RtpengineInstance, startBaresip, startRtpengine } from './media-lab';
import { DemoIdentity, DemoServer, startDemoServer } from '../../examples/webrtc-demo/server';

export const EVENT_TYPES = ['session-invitation', 'session-status'].map((t) => `org.camaraproject.webrtc-events.v0.${t}`);
/** Every scope the demo page needs. */
export const DEMO_SCOPES = [
  'webrtc-registration:sessions:create',
  'webrtc-registration:sessions:read',
  'webrtc-registration:sessions:delete',
  'webrtc-call-handling:sessions:create',
  'webrtc-call-handling:sessions:read',
  'webrtc-call-handling:sessions:write',
  'webrtc-call-handling:sessions:delete',
  'webrtc-events:read',
  'webrtc-events:delete',
  ...EVENT_TYPES.map((t) => `webrtc-events:${t}:create`),
].join(' ');

export interface DemoLabOptions {
  /** start Redis and give it to the gateway (default false) */
  redis?: boolean;
  /** start baresip as the SIP phone LAB_PHONE.user (default true) */
  phone?: boolean;
  /** token lifetime (default '12h') */
  tokenLifetime?: string;
  /** gateway LOG_LEVEL (default: TEST_LOG_LEVEL or silent) */
  logLevel?: string;
  /** fixed port of the demo page (default: a free one) */
  demoPort?: number;
  /** baresip logs every SIP message it sends and receives, Kamailio one line per message (default: LAB_SIP_TRACE=1) */
  phoneSipTrace?: boolean;
}

export interface DemoLab {
  readonly lab: Lab;
  readonly rtpengine: RtpengineInstance;
  readonly phone: BaresipInstance | null;
  readonly idp: TestIdp;
  readonly gateway: GatewayUnderTest;
  /** http://127.0.0.1:PORT of the gateway's REST API */
  readonly gatewayBase: string;
  readonly demo: DemoServer;
  /** browser numbers (every lab subscriber but the phone) with their tokens */
  readonly identities: DemoIdentity[];
  /** the last log lines of Kamailio, the phone and rtpengine, for a failing test's message */
  diagnostics(lines?: number): string;
  stop(): Promise<void>;
}

export async function startDemoLab(opts: DemoLabOptions = {}): Promise<DemoLab> {
  const stoppers: Array<() => Promise<unknown>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  };
  try {
    const rtpengine = await startRtpengine();
    stoppers.push(() => rtpengine.stop());
    const lab = await startLab({ redis: opts.redis ?? false, ringMs: 100, kamailio: { defines: { ...rtpengine.kamailioDefines, ...(opts.phoneSipTrace && { LAB_MSG_LOG: 1 }) } } });
    stoppers.push(() => lab.stop());
    let phone: BaresipInstance | null = null;
    if (opts.phone ?? true) {
      const p = await startBaresip({ proxyPort: lab.kamailio.port, control: true, sipTrace: opts.phoneSipTrace ?? process.env.LAB_SIP_TRACE === '1' });
      phone = p;
      stoppers.push(() => p.stop());
      await eventually(async () => (await lab.kamailio.locations(LAB_PHONE.user)).length > 0, 15_000, `baresip registered as ${LAB_PHONE.user}\n${p.logTail(20)}`);
    }
    const idp = await createTestIdp();
    const gateway = await startGateway(lab, idp, { SIP_RING_TIMEOUT_MS: '60000', ...(opts.logLevel !== undefined && { LOG_LEVEL: opts.logLevel }) });
    stoppers.push(() => gateway.close());
    const httpPort = await freePort('tcp');
    await gateway.app.listen(httpPort, '127.0.0.1');
    const gatewayBase = `http://127.0.0.1:${httpPort}`;
    const identities: DemoIdentity[] = [];
    for (const number of Object.keys(LAB_SUBSCRIBERS)) {
      if (number === LAB_PHONE.user) continue;
      identities.push({ number, token: await idp.token({ phone_number: number, scope: DEMO_SCOPES, expiresIn: opts.tokenLifetime ?? '12h' }), label: 'browser' });
    }
    const demo = await startDemoServer({
      gatewayBase,
      identities,
      callees: [
        ...(phone ? [{ number: LAB_PHONE.user, label: 'SIP phone (baresip, echoes what you say, media via rtpengine)' }] : []),
        { number: lab.numbers.answer, label: 'SIPp far end (answers, no media)' },
        { number: lab.numbers.busy, label: 'busy (486)' },
      ],
      ...(opts.demoPort !== undefined && { port: opts.demoPort }),
    });
    stoppers.push(() => demo.close());
    const diagnostics = (lines = 40): string =>
      [
        `--- kamailio (last ${lines} lines) ---\n${lab.kamailio.logTail(lines)}`,
        ...(phone ? [`--- baresip ${phone.user} ---\n${phone.logTail(lines)}`] : []),
        `--- rtpengine ---\n${rtpengine.logTail(lines)}`,
      ].join('\n');
    return { lab, rtpengine, phone, idp, gateway, gatewayBase, demo, identities, diagnostics, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

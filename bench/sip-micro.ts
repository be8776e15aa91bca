/**
 * SIP hot-path micro-benchmark: µs of CPU per message for the codec (decode, encode), the
 * telemetry counter and a full UDP round (encode → SipTransport.send → SipTransport receive →
 * decode), plus the minor GCs per 10k messages as a proxy for allocations; then a full-call
 * equivalent (SipStack as UAC: INVITE client transaction, 100/180/200, ACK, BYE/200 over UDP on
 * loopback against a tiny in-process UAS), printed as µs of CPU per call. Prints figures only
 * (no assertions on time). Run: `node --require ts-node/register/transpile-only bench/sip-micro.ts [N] [calls]`.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import pino from 'pino';
import { Clock } from '../src/common/clock';
import { GatewayMetrics } from '../src/observability/metrics/gateway-metrics';
import { SipTransport } from '../src/sip/transport';
import { decodeSip, encodeMessage } from '../src/sip/wire';
import { fullCalls } from './sip-call-micro';

const N = Number(process.argv[2] ?? 20_000);

const SDP = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 49170 RTP/AVP 96 8 0 101',
  'a=rtpmap:96 AMR-WB/16000',
  'a=fmtp:96 mode-change-capability=2;max-red=0',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=maxptime:240',
  'a=sendrecv',
  '',
].join('\r\n');

const INVITE = Buffer.from(
  [
    'INVITE sip:+34600000002@ims.lab;user=phone SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-524287-1---a2f1c0e3b5d7f9a1;rport',
    'Max-Forwards: 70',
    'Route: <sip:127.0.0.1:5060;lr>',
    'From: "Alice" <sip:+34600000001@ims.lab;user=phone>;tag=8f1a2b3c',
    'To: <sip:+34600000002@ims.lab;user=phone>',
    'Call-ID: 3f1e9a2b-7c4d-4e5f-8a9b-0c1d2e3f4a5b',
    'CSeq: 1 INVITE',
    'Contact: <sip:gw@127.0.0.1:5080;transport=udp>;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"',
    'P-Asserted-Identity: <sip:+34600000001@ims.lab;user=phone>',
    'Allow: INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, OPTIONS, INFO, NOTIFY',
    'Supported: 100rel, timer, replaces',
    'Session-Expires: 1800;refresher=uac',
    'Min-SE: 90',
    'User-Agent: camara-webrtc-gateway',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(SDP)}`,
    '',
    SDP,
  ].join('\r\n'),
);

const OK = Buffer.from(
  [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-524287-1---a2f1c0e3b5d7f9a1;rport=5080;received=127.0.0.1',
    'Record-Route: <sip:127.0.0.1:5060;lr;ftag=8f1a2b3c>',
    'From: "Alice" <sip:+34600000001@ims.lab;user=phone>;tag=8f1a2b3c',
    'To: <sip:+34600000002@ims.lab;user=phone>;tag=99aa77',
    'Call-ID: 3f1e9a2b-7c4d-4e5f-8a9b-0c1d2e3f4a5b',
    'CSeq: 1 INVITE',
    'Contact: <sip:bob@127.0.0.1:5090>',
    'Supported: 100rel, timer',
    'Session-Expires: 1800;refresher=uac',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(SDP)}`,
    '',
    SDP,
  ].join('\r\n'),
);

let minorGcs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === 1) minorGcs++;
}).observe({ entryTypes: ['gc'] });

function message(buf: Buffer): NonNullable<Extract<ReturnType<typeof decodeSip>, { kind: 'message' }>['message']> {
  const d = decodeSip(buf);
  if (d.kind !== 'message') throw new Error(`bench message does not decode: ${d.kind}`);
  return d.message;
}

/** Runs `fn` n times (after a warm-up) and prints CPU µs and minor GCs per message (`perCall` messages per call). */
async function measure(name: string, n: number, fn: (i: number) => void | Promise<void>, perCall = 1): Promise<void> {
  for (let i = 0; i < Math.min(2000, n); i++) await fn(i);
  await new Promise((r) => setImmediate(r));
  const gc0 = minorGcs;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 20)); // let the gc observer report
  const messages = n * perCall;
  const us = (cpu.user + cpu.system) / messages;
  console.log(`${name.padEnd(48)} ${us.toFixed(2).padStart(8)} µs/msg  ${(((minorGcs - gc0) * 10_000) / messages).toFixed(1).padStart(6)} minor GCs/10k msgs`);
}

async function udpRound(n: number): Promise<void> {
  let received = 0;
  let waiting: (() => void) | undefined;
  const rx = new SipTransport('UDP', '127.0.0.1', 0, {
    onMessage: (raw) => {
      decodeSip(raw);
      if (++received >= target) waiting?.();
    },
    onWarn: () => undefined,
  });
  let target = 0;
  await rx.listen();
  const port = (rx as unknown as { udp: { address(): { port: number } } }).udp.address().port;
  const tx = new SipTransport('UDP', '127.0.0.1', 0, { onMessage: () => undefined, onWarn: () => undefined });
  await tx.listen();
  const invite = message(INVITE);
  const burst = 100;
  await measure(
    'UDP round: encode+send+receive+decode',
    n / burst,
    async () => {
      received = 0;
      target = burst;
      const done = new Promise<void>((resolve) => {
        waiting = resolve;
        setTimeout(resolve, 200).unref(); // a lost datagram must not hang the bench
      });
      for (let i = 0; i < burst; i++) tx.send(encodeMessage(invite), { address: '127.0.0.1', port });
      await done;
    },
    burst,
  );
  await Promise.all([rx.close(), tx.close()]);
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, N=${N}`);
  const invite = message(INVITE);
  const ok = message(OK);
  await measure('decode INVITE with SDP (request)', N, () => void decodeSip(INVITE));
  await measure('decode 200 OK with SDP (response)', N, () => void decodeSip(OK));
  await measure('encode INVITE with SDP', N, () => void encodeMessage(invite));
  await measure('encode 200 OK with SDP', N, () => void encodeMessage(ok));
  const metrics = new GatewayMetrics(Clock.system, pino({ level: 'silent' }));
  await measure('telemetry sipMessage (in/out, request+response)', N, (i) => {
    if (i & 1) metrics.sipMessage('out', 'INVITE');
    else metrics.sipMessage('in', 'INVITE', 200);
  });
  metrics.onModuleDestroy();
  await udpRound(N);
  await fullCalls(Number(process.argv[3] ?? 5_000), SDP);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

/**
 * SIP/TCP under careless and greedy clients (issue 13): connection cap, idle timeout, maximum
 * message size. Raw TCP sockets play the client: that is what a slow-loris or a flood looks like.
 */
import { connect, Socket } from 'node:net';
import pino from 'pino';
import { loadConfig } from '../../src/config/app-config';
import { SipUserAgent } from '../../src/sip/sip-user-agent';
import type { SipRefusalReason, SipTelemetry } from '../../src/sip/sip-telemetry';
import { freePort } from '../support/lab';

const logger = pino({ level: process.env.SIP_TEST_LOG ?? 'silent' });
let gw: SipUserAgent | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await gw?.close();
  gw = undefined;
});

async function start(env: Record<string, string>) {
  const port = await freePort('tcp');
  const refused: SipRefusalReason[] = [];
  const telemetry: SipTelemetry = {
    sipMessage: () => undefined,
    sipRetransmission: () => undefined,
    sipTransactionTimeout: () => undefined,
    sipTransportError: () => undefined,
    sipRefused: (r) => refused.push(r),
  };
  const config = loadConfig({
    SIP_OUTBOUND_PROXY: 'sip:127.0.0.1:5060;transport=tcp',
    SIP_LISTEN_ADDRESS: '127.0.0.1',
    SIP_LISTEN_PORT: String(port),
    SIP_TRANSPORT: 'tcp',
    SIP_TRUSTED_PEERS: '127.0.0.1',
    ...env,
  });
  gw = new SipUserAgent(config, logger, undefined, telemetry);
  await gw.start();
  return { port, refused };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    sockets.push(s);
    s.on('error', reject);
  });
}

const closed = (s: Socket): Promise<void> => new Promise((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));

describe('SIP/TCP limits', () => {
  it('closes connections beyond SIP_TCP_MAX_CONNECTIONS at once', async () => {
    const { port, refused } = await start({ SIP_TCP_MAX_CONNECTIONS: '2' });
    const a = await open(port);
    const b = await open(port);
    const c = await open(port);
    await closed(c);
    expect(a.closed || b.closed).toBe(false);
    expect(refused).toEqual(['tcp-cap']);
  });

  it('closes a connection silent for SIP_TCP_IDLE_TIMEOUT_MS', async () => {
    const { port, refused } = await start({ SIP_TCP_IDLE_TIMEOUT_MS: '300' });
    const s = await open(port);
    s.write('OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKslow\r\n'); // never finished
    const t0 = Date.now();
    await closed(s);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(refused).toEqual(['tcp-idle']);
  });

  it('cuts a peer announcing a body beyond SIP_MAX_MESSAGE_BYTES before reading it', async () => {
    const { port, refused } = await start({ SIP_MAX_MESSAGE_BYTES: '8192' });
    const s = await open(port);
    s.write('INVITE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKbig\r\nContent-Length: 1048576\r\n\r\n');
    await closed(s);
    expect(refused).toEqual(['tcp-too-large']);
  });
});

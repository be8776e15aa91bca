/**
 * The gateway's SIP edge against SIPp playing the peer directly (no proxy in between: routing
 * does not matter here): RFC 3581 received/rport, the RFC 3325 trust boundary, malformed
 * requests answered 400/505, conflicting Content-Length. UDP and TCP, IPv4 and IPv6 ([::1]).
 */
import pino from 'pino';
import { loadConfig } from '../../src/config/app-config';
import { SipUserAgent } from '../../src/sip/sip-user-agent';
import type { SipRefusalReason, SipTelemetry } from '../../src/sip/sip-telemetry';
import { freePort, runSippUac } from '../support/lab';
import { sipRawExchange } from '../support/sip-probe';

const logger = pino({ level: process.env.SIP_TEST_LOG ?? 'silent' });
const gateways: SipUserAgent[] = [];

function telemetry(): SipTelemetry & { refused: SipRefusalReason[] } {
  const refused: SipRefusalReason[] = [];
  return { refused, sipMessage: () => undefined, sipRetransmission: () => undefined, sipTransactionTimeout: () => undefined, sipTransportError: () => undefined, sipRefused: (r) => refused.push(r) };
}

async function gateway(opts: { host: string; transport: 'udp' | 'tcp'; trusted: string; policy?: 'reject' | 'drop' }) {
  const port = await freePort(opts.transport);
  const t = telemetry();
  const config = loadConfig({
    SIP_OUTBOUND_PROXY: `sip:${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:5060`,
    SIP_LISTEN_ADDRESS: opts.host,
    SIP_LISTEN_PORT: String(port),
    SIP_TRANSPORT: opts.transport,
    SIP_TRUSTED_PEERS: opts.trusted,
    SIP_UNTRUSTED_POLICY: opts.policy ?? 'reject',
  });
  const gw = new SipUserAgent(config, logger, undefined, t);
  gateways.push(gw);
  await gw.start();
  return { port, telemetry: t };
}

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

const sipp = (transport: 'udp' | 'tcp') => (transport === 'tcp' ? 't1' : 'u1');

describe.each([
  ['udp', '127.0.0.1'],
  ['tcp', '127.0.0.1'],
  ['udp', '::1'],
  ['tcp', '::1'],
] as const)('SIP edge over %s on %s', (transport, host) => {
  const run = (scenario: string, port: number, localPort?: number) =>
    runSippUac({ scenario, proxyHost: host, proxyPort: port, localHost: host, transport: sipp(transport), timeoutS: 8, ...(localPort !== undefined && { localPort }) });

  it('answers a trusted peer to its source port with received and rport filled in (RFC 3581)', async () => {
    const gw = await gateway({ host, transport, trusted: host });
    const localPort = await freePort(transport);
    const r = await run('uac-options-rport-received', gw.port, localPort);
    expect({ exit: r.exitCode, errors: r.errors }).toEqual({ exit: 0, errors: '' });
    expect(r.messages).toMatch(new RegExp(`SIP/2.0 200 OK[\\s\\S]*;rport=${localPort};received=${host === '::1' ? '::1' : '127\\.0\\.0\\.1'}`));
  });

  it('answers a request in another SIP version 505', async () => {
    const gw = await gateway({ host, transport, trusted: host });
    const r = await run('uac-sip-version-505', gw.port);
    expect(r.exitCode).toBe(0);
    expect(gw.telemetry.refused).toContain('version');
  });

  it('answers a CSeq out of range 400 (raw probe: SIPp overflows on such a CSeq itself)', async () => {
    const gw = await gateway({ host, transport, trusted: host });
    const h = host.includes(':') ? `[${host}]` : host;
    const status = await sipRawExchange(host, gw.port, transport, (local) =>
      [
        `OPTIONS sip:probe@${h}:${gw.port} SIP/2.0`,
        `Via: SIP/2.0/${transport.toUpperCase()} ${h}:${local.port};branch=z9hG4bK-cseq-range;rport`,
        `From: <sip:probe@${h}>;tag=cseq1`,
        `To: <sip:probe@${h}:${gw.port}>`,
        'Call-ID: cseq-range@probe',
        'CSeq: 2147483648 OPTIONS',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\n'),
    );
    expect(status).toBe('SIP/2.0 400 Bad Request (CSeq out of range)');
    expect(gw.telemetry.refused).toEqual(['malformed']);
  });

  it('answers conflicting Content-Length 400 and never processes the hidden request', async () => {
    const gw = await gateway({ host, transport, trusted: host });
    const r = await run('uac-conflicting-content-length-400', gw.port);
    expect(r.exitCode).toBe(0);
    expect(r.messages).not.toMatch(/smuggled[\s\S]*SIP\/2\.0 200/);
    expect(gw.telemetry.refused).toEqual(transport === 'tcp' ? ['malformed', 'tcp-bad-framing'] : ['malformed']);
  });

  it('refuses an INVITE with a forged P-Asserted-Identity from outside the trust domain: 403', async () => {
    // the trusted peer is another address, so SIPp on `host` is outside the domain on UDP and TCP
    const gw = await gateway({ host, transport, trusted: host === '::1' ? '2001:db8::1' : '127.0.0.2' });
    const r = await run('uac-untrusted-invite-403', gw.port);
    expect({ exit: r.exitCode, errors: r.errors }).toEqual({ exit: 0, errors: '' });
    expect(gw.telemetry.refused).toContain('untrusted');
  });

  it('says nothing to an untrusted peer under SIP_UNTRUSTED_POLICY=drop', async () => {
    const gw = await gateway({ host, transport, trusted: host === '::1' ? '2001:db8::1' : '127.0.0.2', policy: 'drop' });
    const r = await run('uac-untrusted-options-dropped', gw.port);
    expect(r.exitCode).toBe(0);
    expect(r.messages).not.toMatch(/SIP\/2\.0 \d{3}/);
    expect(gw.telemetry.refused).toEqual(['untrusted']);
  });
});

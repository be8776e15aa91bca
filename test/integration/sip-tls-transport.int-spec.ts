/**
 * SIP over TLS at the connection level, with real TLS peers (node:tls) playing the P-CSCF: which
 * certificate the gateway accepts from the proxy (RFC 5922 §7.2) and when it sends its own requests
 * on a connection the proxy opened (RFC 5923 alias). The Kamailio side is test/e2e/sip-tls.e2e-spec.ts.
 */
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import pino from 'pino';
import { loadConfig } from '../../src/config/app-config';
import { SipUserAgent } from '../../src/sip/sip-user-agent';
import { freePort } from '../support/lab';
import { eventually } from '../support/gateway';
import { CertFiles, LabPki, makeLabPki } from '../support/tls-certs';

const logger = pino({ level: process.env.SIP_TEST_LOG ?? 'silent' });

let pki: LabPki;
let gw: SipUserAgent | undefined;
const closers: Array<() => void> = [];

beforeAll(async () => {
  pki = await makeLabPki();
});
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await gw?.close();
  gw = undefined;
});

async function startGateway(proxyPort: number): Promise<number> {
  const port = await freePort('tcp');
  const config = loadConfig({
    SIP_TRANSPORT: 'tls',
    SIP_OUTBOUND_PROXY: `sip:127.0.0.1:${proxyPort};transport=tls`,
    SIP_LISTEN_ADDRESS: '127.0.0.1',
    SIP_LISTEN_PORT: String(port),
    SIP_TRUSTED_PEERS: '127.0.0.1',
    SIP_TLS_CERT_FILE: pki.gateway.certFile,
    SIP_TLS_KEY_FILE: pki.gateway.keyFile,
    SIP_TLS_CA_FILE: pki.caFile,
  });
  gw = new SipUserAgent(config, logger);
  await gw.start();
  return port;
}

/** Every complete SIP message (no bodies here) a socket receives. */
function messages(sock: tls.TLSSocket): string[] {
  const out: string[] = [];
  let buf = '';
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
      out.push(buf.slice(0, i));
      buf = buf.slice(i + 4);
    }
  });
  return out;
}

/** The 200 OK a UAS would send for `request` (its Via, From, To, Call-ID and CSeq). */
function ok(request: string): string {
  const keep = request.split('\r\n').filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
  return `SIP/2.0 200 OK\r\n${keep.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
}

/** A proxy that opens a TLS connection to the gateway (with `cert` as its client certificate, if any) and sends an OPTIONS whose Via offers an alias. */
async function proxyConnects(gatewayPort: number, proxyPort: number, cert?: CertFiles): Promise<{ sock: tls.TLSSocket; received: string[] }> {
  const sock = tls.connect({
    host: '127.0.0.1',
    port: gatewayPort,
    ca: readFileSync(pki.caFile),
    ...(cert && { cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }),
  });
  closers.push(() => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    sock.once('secureConnect', resolve);
    sock.once('error', reject);
  });
  const received = messages(sock);
  sock.write(
    `OPTIONS sip:127.0.0.1:${gatewayPort};transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:${proxyPort};branch=z9hG4bK-proxy-1;alias\r\n` +
      `From: <sip:proxy@ims.lab>;tag=p1\r\nTo: <sip:gw@ims.lab>\r\nCall-ID: alias-probe@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
  );
  await eventually(async () => received.some((m) => m.startsWith('SIP/2.0 200')), 5000, 'the gateway to answer the OPTIONS');
  return { sock, received };
}

describe('SIP over TLS: connections', () => {
  it('sends its requests on the connection the proxy opened when the proxy offers an alias and its certificate names it (RFC 5923 §5)', async () => {
    const proxyPort = await freePort('tcp'); // nobody listens there: a new connection would be refused
    const gatewayPort = await startGateway(proxyPort);
    const { sock, received } = await proxyConnects(gatewayPort, proxyPort, pki.kamailio);
    const ping = gw!.ping();
    const options = await eventually(async () => received.find((m) => m.startsWith('OPTIONS ')), 5000, 'our OPTIONS on the proxy’s connection');
    expect(options).toMatch(new RegExp(`^Via: SIP/2\\.0/TLS 127\\.0\\.0\\.1:${gatewayPort};branch=z9hG4bK\\w+;alias$`, 'mi'));
    sock.write(ok(options));
    await expect(ping).resolves.toBe(200);
  });

  it('ignores the alias of a proxy that showed no certificate (RFC 5923 §9): it connects itself, and says why that failed', async () => {
    const proxyPort = await freePort('tcp');
    const gatewayPort = await startGateway(proxyPort);
    const { received } = await proxyConnects(gatewayPort, proxyPort);
    await expect(gw!.ping()).rejects.toThrow(`OPTIONS could not be sent: SIP/TLS connection to 127.0.0.1:${proxyPort} failed: connect ECONNREFUSED 127.0.0.1:${proxyPort}`);
    expect(received.filter((m) => m.startsWith('OPTIONS '))).toEqual([]);
  });

  it('opens a new connection after the proxy cut the last one', async () => {
    const accepted: tls.TLSSocket[] = [];
    const server = tls.createServer({ cert: readFileSync(pki.kamailio.certFile), key: readFileSync(pki.kamailio.keyFile) }, (s) => {
      accepted.push(s);
      const received = messages(s);
      s.on('data', () => {
        const rq = received.shift();
        if (rq?.startsWith('OPTIONS ')) s.write(ok(rq));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      for (const s of accepted) s.destroy();
      server.close();
    });
    await startGateway((server.address() as { port: number }).port);
    await expect(gw!.ping()).resolves.toBe(200);
    expect(accepted).toHaveLength(1);
    // the proxy closes the connection (restart, idle timeout); its socket closes once the gateway has closed its side too
    await new Promise<void>((resolve) => accepted[0]!.once('close', () => resolve()).end());
    await expect(gw!.ping()).resolves.toBe(200);
    expect(accepted).toHaveLength(2);
  });

  it('refuses a proxy whose certificate, though signed by the CA, names another host (RFC 5922 §7.2)', async () => {
    const server = tls.createServer({ cert: readFileSync(pki.wrongName.certFile), key: readFileSync(pki.wrongName.keyFile) }, (s) => s.destroy());
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    const proxyPort = (server.address() as { port: number }).port;
    await startGateway(proxyPort);
    await expect(gw!.ping()).rejects.toThrow(
      `OPTIONS could not be sent: TLS handshake with 127.0.0.1:${proxyPort} failed: Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: `,
    );
  });
});

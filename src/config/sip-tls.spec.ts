import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { LabPki, makeLabPki } from '../../test/support/tls-certs';
import { ConfigError, loadConfig } from './app-config';
import { loadSipTls, SipTlsEnv } from './sip-tls';

const DAY_MS = 86_400_000;

describe('SIP over TLS settings, checked at boot', () => {
  let pki: LabPki;
  let env: SipTlsEnv;

  beforeAll(async () => {
    pki = await makeLabPki(); // certificates valid from now for two days
  });
  beforeEach(() => {
    env = {
      SIP_TRANSPORT: 'tls',
      SIP_OUTBOUND_PROXY: 'sip:127.0.0.1:5061;transport=tls',
      SIP_TLS_CERT_FILE: pki.gateway.certFile,
      SIP_TLS_KEY_FILE: pki.gateway.keyFile,
      SIP_TLS_CA_FILE: pki.caFile,
    };
  });
  const problemsOf = (e: SipTlsEnv, now?: Date): string[] => {
    const problems: string[] = [];
    loadSipTls(e, problems, now);
    return problems;
  };

  it('reads a good certificate, key and CA bundle; the key prints as [redacted]', () => {
    const problems: string[] = [];
    const tls = loadSipTls(env, problems);
    expect(problems).toEqual([]);
    expect(tls?.server.cert).toContain('-----BEGIN CERTIFICATE-----');
    expect(tls?.server.key.reveal()).toContain('PRIVATE KEY');
    expect(inspect(tls)).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(tls)).not.toContain('PRIVATE KEY');
    expect(tls?.ca).toContain('-----BEGIN CERTIFICATE-----');
    expect(tls?.client).toBeUndefined();
  });

  it('reads an optional client certificate pair', () => {
    const tls = loadSipTls({ ...env, SIP_TLS_CLIENT_CERT_FILE: pki.kamailio.certFile, SIP_TLS_CLIENT_KEY_FILE: pki.kamailio.keyFile }, []);
    expect(tls?.client?.cert).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('leaves the CA bundle to Node when SIP_TLS_CA_FILE is unset', () => {
    const problems: string[] = [];
    expect(loadSipTls({ ...env, SIP_TLS_CA_FILE: undefined }, problems)?.ca).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('needs the certificate and the key of our listener', () => {
    expect(problemsOf({ ...env, SIP_TLS_CERT_FILE: undefined, SIP_TLS_KEY_FILE: undefined })).toEqual([
      expect.stringMatching(/^SIP_TLS_CERT_FILE: required with SIP_TRANSPORT=tls/),
      expect.stringMatching(/^SIP_TLS_KEY_FILE: required with SIP_TRANSPORT=tls/),
    ]);
  });

  it('names the variable of an unreadable file', () => {
    expect(problemsOf({ ...env, SIP_TLS_CA_FILE: join(pki.dir, 'missing.pem') })).toEqual([`SIP_TLS_CA_FILE: cannot read ${join(pki.dir, 'missing.pem')} (ENOENT)`]);
  });

  it('refuses a key that is not the certificate’s', () => {
    expect(problemsOf({ ...env, SIP_TLS_KEY_FILE: pki.kamailio.keyFile })).toEqual(['SIP_TLS_KEY_FILE: the key does not belong to the certificate in SIP_TLS_CERT_FILE']);
  });

  it('refuses an expired certificate, and one not valid yet', () => {
    const later = problemsOf(env, new Date(Date.now() + 3 * DAY_MS));
    expect(later).toContainEqual(expect.stringMatching(/^SIP_TLS_CERT_FILE: certificate "CN=gateway" expired on \d{4}-/));
    expect(later).toContainEqual(expect.stringMatching(/^SIP_TLS_CA_FILE: certificate "CN=Lab IMS CA" expired on /));
    expect(problemsOf(env, new Date(Date.now() - DAY_MS))).toContainEqual(expect.stringMatching(/^SIP_TLS_CERT_FILE: certificate "CN=gateway" is not valid before /));
  });

  it('refuses files that hold no certificate or no key', () => {
    expect(problemsOf({ ...env, SIP_TLS_CA_FILE: pki.gateway.keyFile })).toEqual(['SIP_TLS_CA_FILE: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file']);
    expect(problemsOf({ ...env, SIP_TLS_KEY_FILE: pki.caFile })).toEqual(['SIP_TLS_KEY_FILE: not an unencrypted PEM private key']);
    const broken = join(pki.dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(problemsOf({ ...env, SIP_TLS_CERT_FILE: broken })).toEqual(['SIP_TLS_CERT_FILE: holds a PEM block that is not a valid X.509 certificate']);
  });

  it('wants both halves of a client certificate', () => {
    expect(problemsOf({ ...env, SIP_TLS_CLIENT_CERT_FILE: pki.kamailio.certFile })).toEqual(['SIP_TLS_CLIENT_CERT_FILE, SIP_TLS_CLIENT_KEY_FILE: set both or neither']);
  });

  it('refuses a proxy whose transport contradicts TLS, and TLS settings without TLS (RFC 3261 §26.2)', () => {
    expect(problemsOf({ ...env, SIP_OUTBOUND_PROXY: 'sip:10.0.0.10:5060;transport=udp' })).toEqual(['SIP_OUTBOUND_PROXY: transport=udp contradicts SIP_TRANSPORT=tls']);
    expect(problemsOf({ ...env, SIP_OUTBOUND_PROXY: undefined })).toEqual([expect.stringMatching(/^SIP_OUTBOUND_PROXY: must be set with SIP_TRANSPORT=tls/)]);
    expect(problemsOf({ ...env, SIP_OUTBOUND_PROXY: 'sips:pcscf.example.net' })).toEqual([]);
    expect(problemsOf({ SIP_TRANSPORT: 'tcp', SIP_OUTBOUND_PROXY: 'sips:pcscf.example.net', SIP_TLS_CA_FILE: pki.caFile })).toEqual([
      'SIP_TLS_CA_FILE: only used with SIP_TRANSPORT=tls',
      'SIP_OUTBOUND_PROXY: a sips: URI needs SIP_TRANSPORT=tls (RFC 3261 §26.2)',
    ]);
    expect(problemsOf({ SIP_OUTBOUND_PROXY: 'sip:10.0.0.10;transport=TLS' })).toEqual(['SIP_OUTBOUND_PROXY: transport=tls needs SIP_TRANSPORT=tls']);
  });

  it('stops loadConfig with every problem named, and hands good material to the SIP config', () => {
    expect(() => loadConfig({ ...env, SIP_TLS_KEY_FILE: pki.kamailio.keyFile, SIP_TLS_CA_FILE: '/nonexistent/ca.pem' })).toThrow(
      new ConfigError('Invalid configuration:\n  - SIP_TLS_KEY_FILE: the key does not belong to the certificate in SIP_TLS_CERT_FILE\n  - SIP_TLS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)'),
    );
    const config = loadConfig(env as Record<string, string>);
    expect(config.sip.transport).toBe('tls');
    expect(config.sip.tls?.server.cert).toContain('-----BEGIN CERTIFICATE-----');
    expect(JSON.stringify(config)).not.toContain('PRIVATE KEY');
    expect(loadConfig({}).sip.tls).toBeUndefined();
  });
});

import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Secret } from './secret';

/** A certificate chain and its private key, read from files at boot (the key never reaches a log line). */
export interface TlsIdentity {
  /** PEM: the certificate first, then any intermediates. */
  cert: string;
  key: Secret;
}

/** SIP over TLS (`SIP_TRANSPORT=tls`): what the gateway presents and what it trusts. */
export interface SipTlsMaterial {
  /** Presented to peers that connect to us (`SIP_TLS_CERT_FILE`, `SIP_TLS_KEY_FILE`). */
  server: TlsIdentity;
  /** PEM bundle the proxy's certificate is verified against (`SIP_TLS_CA_FILE`); undefined: Node's bundled public roots. */
  ca: string | undefined;
  /** Presented when we connect, if the proxy asks for one (`SIP_TLS_CLIENT_CERT_FILE`, `SIP_TLS_CLIENT_KEY_FILE`); undefined: none. */
  client: TlsIdentity | undefined;
}

export interface SipTlsEnv {
  SIP_TRANSPORT?: string;
  SIP_OUTBOUND_PROXY?: string;
  SIP_TLS_CERT_FILE?: string;
  SIP_TLS_KEY_FILE?: string;
  SIP_TLS_CA_FILE?: string;
  SIP_TLS_CLIENT_CERT_FILE?: string;
  SIP_TLS_CLIENT_KEY_FILE?: string;
}

const TLS_VARIABLES = ['SIP_TLS_CERT_FILE', 'SIP_TLS_KEY_FILE', 'SIP_TLS_CA_FILE', 'SIP_TLS_CLIENT_CERT_FILE', 'SIP_TLS_CLIENT_KEY_FILE'] as const;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function read(variable: string, path: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    problems.push(`${variable}: cannot read ${path} (${code})`);
    return undefined;
  }
}

/** Every certificate of a PEM file, each checked for its validity period; undefined (and a problem) when there is none. */
function certificates(variable: string, pem: string, now: Date, problems: string[]): X509Certificate[] | undefined {
  const certs: X509Certificate[] = [];
  for (const block of pem.match(PEM_CERT) ?? []) {
    try {
      certs.push(new X509Certificate(block));
    } catch {
      problems.push(`${variable}: holds a PEM block that is not a valid X.509 certificate`);
      return undefined;
    }
  }
  if (certs.length === 0) {
    problems.push(`${variable}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file`);
    return undefined;
  }
  for (const c of certs) {
    const subject = c.subject.replace(/\n/g, ', ');
    if (new Date(c.validTo) < now) problems.push(`${variable}: certificate "${subject}" expired on ${new Date(c.validTo).toISOString()}`);
    else if (new Date(c.validFrom) > now) problems.push(`${variable}: certificate "${subject}" is not valid before ${new Date(c.validFrom).toISOString()}`);
  }
  return certs;
}

function privateKey(variable: string, pem: string, problems: string[]): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    problems.push(`${variable}: not an unencrypted PEM private key`);
    return undefined;
  }
}

/** A certificate file and its key file: both readable, the certificate in date, the key its own. */
function identity(certVar: string, keyVar: string, certPath: string, keyPath: string, now: Date, problems: string[]): TlsIdentity | undefined {
  const before = problems.length;
  const certPem = read(certVar, certPath, problems);
  const keyPem = read(keyVar, keyPath, problems);
  const certs = certPem === undefined ? undefined : certificates(certVar, certPem, now, problems);
  const key = keyPem === undefined ? undefined : privateKey(keyVar, keyPem, problems);
  if (certs?.[0] && key && !certs[0].checkPrivateKey(key)) problems.push(`${keyVar}: the key does not belong to the certificate in ${certVar}`);
  if (problems.length > before || certPem === undefined || keyPem === undefined) return undefined;
  return { cert: certPem, key: new Secret(keyPem) };
}

/**
 * The TLS files of `SIP_TRANSPORT=tls`, read and checked once at boot so that a bad certificate
 * stops the process with a message naming the variable (instead of failing every handshake later):
 * unreadable, not PEM, expired or not yet valid, a key that is not the certificate's. Also refuses
 * an outbound proxy whose transport contradicts TLS (RFC 3261 §26.2: a `sips:` URI asks for TLS on
 * every hop, RFC 5630 §3.1) and TLS files given without TLS. Appends to `problems`; returns the
 * material for `tls`, undefined otherwise.
 */
export function loadSipTls(env: SipTlsEnv, problems: string[], now = new Date()): SipTlsMaterial | undefined {
  const tls = env.SIP_TRANSPORT === 'tls';
  const proxy = env.SIP_OUTBOUND_PROXY;
  const proxyTransport = /;transport=([^;?>]*)/i.exec(proxy ?? '')?.[1]?.toLowerCase();
  if (!tls) {
    for (const v of TLS_VARIABLES) if (env[v] !== undefined) problems.push(`${v}: only used with SIP_TRANSPORT=tls`);
    if (proxy?.toLowerCase().startsWith('sips:')) problems.push('SIP_OUTBOUND_PROXY: a sips: URI needs SIP_TRANSPORT=tls (RFC 3261 §26.2)');
    if (proxyTransport === 'tls') problems.push('SIP_OUTBOUND_PROXY: transport=tls needs SIP_TRANSPORT=tls');
    return undefined;
  }
  if (proxy === undefined) problems.push('SIP_OUTBOUND_PROXY: must be set with SIP_TRANSPORT=tls (e.g. sip:pcscf.example.net:5061;transport=tls)');
  else if (proxyTransport !== undefined && proxyTransport !== 'tls') problems.push(`SIP_OUTBOUND_PROXY: transport=${proxyTransport} contradicts SIP_TRANSPORT=tls`);
  const { SIP_TLS_CERT_FILE: certFile, SIP_TLS_KEY_FILE: keyFile, SIP_TLS_CA_FILE: caFile, SIP_TLS_CLIENT_CERT_FILE: clientCert, SIP_TLS_CLIENT_KEY_FILE: clientKey } = env;
  if (certFile === undefined) problems.push('SIP_TLS_CERT_FILE: required with SIP_TRANSPORT=tls (the certificate of our TLS listener)');
  if (keyFile === undefined) problems.push('SIP_TLS_KEY_FILE: required with SIP_TRANSPORT=tls (the key of SIP_TLS_CERT_FILE)');
  if ((clientCert === undefined) !== (clientKey === undefined)) problems.push('SIP_TLS_CLIENT_CERT_FILE, SIP_TLS_CLIENT_KEY_FILE: set both or neither');
  const before = problems.length;
  const server = certFile !== undefined && keyFile !== undefined ? identity('SIP_TLS_CERT_FILE', 'SIP_TLS_KEY_FILE', certFile, keyFile, now, problems) : undefined;
  const client = clientCert !== undefined && clientKey !== undefined ? identity('SIP_TLS_CLIENT_CERT_FILE', 'SIP_TLS_CLIENT_KEY_FILE', clientCert, clientKey, now, problems) : undefined;
  let ca: string | undefined;
  if (caFile !== undefined) {
    ca = read('SIP_TLS_CA_FILE', caFile, problems);
    if (ca !== undefined) certificates('SIP_TLS_CA_FILE', ca, now, problems);
  }
  if (!server || problems.length > before) return undefined;
  return { server, ca, client };
}

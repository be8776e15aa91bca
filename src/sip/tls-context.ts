import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { SipTlsMaterial } from '../config/sip-tls';

/**
 * node:tls options of SIP over TLS (RFC 3261 §26.2, RFC 5630), built once from the material read
 * at boot. The proxy's certificate is always verified: against SIP_TLS_CA_FILE (or Node's public
 * roots) and against the name the proxy was configured by, RFC 5922 §7.2 (subjectAltName, DNS or IP).
 */
export interface SipTlsContext {
  /** Our listener: our certificate; peers that connect are asked for theirs but not refused without one (the RFC 3325 trust domain decides). */
  server: tls.TlsOptions;
  /** A connection we open to `address:port`, whose certificate must carry `expectedName`. */
  connect(address: string, port: number, expectedName: string): tls.ConnectionOptions;
  /** Whether a peer's verified certificate names `host` (RFC 5923 §5: an alias only for an authenticated sent-by). */
  certifies(socket: tls.TLSSocket, host: string): boolean;
}

export function sipTlsContext(material: SipTlsMaterial): SipTlsContext {
  const ca = material.ca;
  return {
    server: {
      cert: material.server.cert,
      key: material.server.key.reveal(),
      ...(ca !== undefined && { ca }),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    connect(address, port, expectedName) {
      const client = material.client;
      return {
        host: address,
        port,
        ...(ca !== undefined && { ca }),
        ...(client && { cert: client.cert, key: client.key.reveal() }),
        // SNI only for names (RFC 6066 §3 forbids IP literals in server_name)
        ...(isIP(expectedName) === 0 && { servername: expectedName }),
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        checkServerIdentity: (_host, cert) => tls.checkServerIdentity(expectedName, cert),
      };
    },
    certifies(socket, host) {
      if (!socket.authorized) return false;
      const cert = socket.getPeerCertificate();
      return cert !== null && Object.keys(cert).length > 0 && tls.checkServerIdentity(host, cert) === undefined;
    },
  };
}

/** A TLS failure in words fit for a log line and /health/ready: what failed, Node's reason and its code. */
export function describeTlsFailure(peer: string, err: Error, secured: boolean): Error {
  const { code, syscall } = err as NodeJS.ErrnoException;
  // a socket error (connect refused, reset) carries its syscall; a refused certificate does not
  const what = secured || syscall !== undefined ? `SIP/TLS connection to ${peer} failed` : `TLS handshake with ${peer} failed`;
  return new Error(`${what}: ${err.message}${code && !err.message.includes(code) ? ` (${code})` : ''}`);
}

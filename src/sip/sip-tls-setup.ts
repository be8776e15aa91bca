import type { SipTlsMaterial } from '../config/sip-tls';
import { sipTlsContext } from './tls-context';
import type { Peer, SipProtocol, TransportTls } from './transport';

/** `SIP_TRANSPORT` → the protocol token of Via (RFC 3261 §20.42: UDP, TCP, TLS). */
export function sipProtocolOf(transport: 'udp' | 'tcp' | 'tls'): SipProtocol {
  return transport === 'tls' ? 'TLS' : transport === 'tcp' ? 'TCP' : 'UDP';
}

/**
 * Our Contact URI for `userHostPort` (RFC 3261 §8.1.1.8). Over TLS: a `sips:` URI when the outbound
 * proxy is itself a `sips:` URI (§8.1.1.8: a SIPS Request-URI or top Route asks for a SIPS Contact;
 * RFC 5630 §3.1: TLS on every hop), else `sip:…;transport=tls`, which every IMS core routes back
 * over TLS to our listener or on the connection we opened (RFC 5923).
 */
export function contactTransport(transport: 'udp' | 'tcp' | 'tls', outboundProxy: string, userHostPort: string): string {
  if (transport === 'tls') return /^sips:/i.test(outboundProxy) ? `sips:${userHostPort}` : `sip:${userHostPort};transport=tls`;
  return `sip:${userHostPort}${transport === 'tcp' ? ';transport=tcp' : ''}`;
}

/**
 * The transport's TLS side. A connection to the outbound proxy must present a certificate for the
 * host SIP_OUTBOUND_PROXY names (RFC 5922 §4, §7.2: the domain of the URI, not the address it
 * resolved to); any other connection we open (a response whose connection dropped) one for the
 * address it goes to.
 */
export function transportTls(material: SipTlsMaterial, proxyHost: string, proxyTargets: () => readonly Peer[]): TransportTls {
  return {
    context: sipTlsContext(material),
    // RFC 5922 §4: every address the proxy's name resolved to (RFC 3263) must present that name
    expectedName(to) {
      return proxyTargets().some((p) => p.address === to.address && p.port === to.port) ? proxyHost : to.address;
    },
  };
}

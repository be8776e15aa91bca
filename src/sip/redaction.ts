import { redactSecrets as redactSdpSecrets } from './sdp';

/**
 * Redaction of SIP message text before it reaches a log line. SDP secrets (`a=crypto` inline
 * keys, `a=ice-pwd`, MIKEY, `k=`) are handled by `src/sip/sdp/`'s `redactSecrets`; on top of it,
 * this removes Authorization / Proxy-Authorization values (digest responses, RFC 3261 §22.2/§22.3),
 * which carry everything needed to attack the password offline. Callers in src/sip import from here.
 */
export function redactSecrets(text: string): string {
  return redactSdpSecrets(text).replace(/^((?:proxy-)?authorization[ \t]*:)[^\r\n]*/gim, '$1 [redacted]');
}

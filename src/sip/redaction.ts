/**
 * Redaction of SIP message text before it reaches a log line.
 *
 * Shim: `src/sip/sdp/` (owned by another engineer) is to export `redactSecrets(text)`; until it
 * does, this local implementation is used. Once it exists, replace the body of this file with
 * `export { redactSecrets } from './sdp';` — callers import from here only.
 *
 * Covers: Authorization / Proxy-Authorization values (digest responses, RFC 3261 §22.2/§22.3),
 * SDES keys (`a=crypto:… inline:<key>`, RFC 4568 §6.1) and ICE passwords (`a=ice-pwd:`, RFC 8839).
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/^((?:proxy-)?authorization[ \t]*:)[^\r\n]*/gim, '$1 [redacted]')
    .replace(/^(a=crypto:[^\r\n]*?inline:)[^\s|\r\n]+/gim, '$1[redacted]')
    .replace(/^(a=ice-pwd:)[^\r\n]*/gim, '$1[redacted]');
}

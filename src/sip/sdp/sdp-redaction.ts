/**
 * Redaction of SDP secrets for logs. SIP messages and SDPs are logged only through
 * these functions (STYLE.md, "Logging and correlation").
 *
 * What is secret in an SDP:
 * - SDES keys: `a=crypto:<tag> <suite> inline:<key||salt>[|lifetime][|MKI:len]` (RFC 4568 §6.1);
 *   a key-params list may hold several `inline:` keys separated by `;`.
 * - MIKEY key-management data: `a=key-mgmt:mikey <base64>` (RFC 4567 §3).
 * - The ICE password `a=ice-pwd:` (RFC 8839 §5.4), which authenticates connectivity checks.
 * - Legacy `k=<method>:<key>` encryption keys (RFC 4566 §5.12, removed by RFC 8866).
 * Lifetimes, MKIs, suites and ufrags stay readable for debugging.
 */

const REDACTED = '[redacted]';

/**
 * Patterns are unanchored so they also work inside SIP messages, multipart bodies and
 * JSON-escaped log fields (`"sdp":"v=0\r\na=ice-pwd:..."`), where the secret is
 * followed by `\r`, `\n`, a literal backslash or a quote.
 */
const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // RFC 4568 key-params: base64 key||salt up to "|" (lifetime/MKI), ";" (next key) or whitespace.
  // Case-insensitive and tolerant of spaces: `INLINE:`, `inline : key` are keys all the same.
  [/\binline[ \t]*:[ \t]*[^\s|;\\"']+/gi, `inline:${REDACTED}`],
  [/(a=ice-pwd[ \t]*:[ \t]*)[^\s\\"']+/gi, `$1${REDACTED}`],
  // sdp-transform objects logged as JSON.
  [/("icePwd"\s*:\s*")[^"]*/gi, `$1${REDACTED}`],
  [/(a=key-mgmt[ \t]*:[ \t]*\S+\s+)[^\s\\"']+/gi, `$1${REDACTED}`],
  [/(^|[\r\n]|\\n)(k[ \t]*=[ \t]*(?:clear|base64|uri)[ \t]*:)[^\r\n\\"']+/gi, `$1$2${REDACTED}`],
];

/**
 * Where a subscriber is (RFC 4119 PIDF-LO `location-info`: shapes, coordinates, civic address)
 * and CAMARA `locationDetails` coordinates logged as JSON. Personal data: logged only at `trace`.
 */
const LOCATION_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/(<(?:[\w-]+:)?location-info\b[^>]*>)[\s\S]*?(<\/(?:[\w-]+:)?location-info\s*>)/gi, `$1${REDACTED}$2`],
  [/(<(?:[\w-]+:)?(?:pos|posList|radius|semiMajorAxis|semiMinorAxis|civicAddress)\b[^>]*>)[^<]*/gi, `$1${REDACTED}`],
  [/((?:\\?")(?:latitude|longitude|lat|lon|radius|accuracy)(?:\\?")\s*:\s*)-?[0-9.eE+-]+/gi, `$1"${REDACTED}"`],
];

export interface RedactionOptions {
  /** Keep locations readable (only when the logger is at `trace`). Default: redacted. */
  keepLocation?: boolean;
}

/** Redacts SDP secrets and (unless `keepLocation`) locations anywhere in `text` (log lines, SIP messages, JSON). */
export function redactSecrets(text: string, options: RedactionOptions = {}): string {
  const rules = options.keepLocation ? RULES : RULES.concat(LOCATION_RULES);
  return rules.reduce((acc, [pattern, replacement]) => acc.replace(pattern, replacement), text);
}

/** Redacts an SDP body; lines and line endings are left as they were. */
export function redactSdp(sdp: string): string {
  return redactSecrets(sdp);
}

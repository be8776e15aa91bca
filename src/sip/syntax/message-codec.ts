import type { SipHeaders, SipMessage, SipVia } from 'sip';
import { SipSyntaxError } from '../sip-syntax';
import { MAX_CSEQ, parseAuthList, parseBoundedInt, parseCSeq, parseNameAddr, parseNameAddrList, parseViaList, TOKEN } from './header-values';
import { assertAnyUri, parseSipUri } from './sip-uri';
import { writeHead } from './message-writer';

/**
 * Bytes -> SipMessage (RFC 3261 §7, §18.3, §25). Our own parser: the `sip` package cuts IPv6 Via
 * hosts, loses IPv6 Route URIs and accepts a second Content-Length. The result says what to do
 * with a message it cannot accept: a request is answered (400, or 505 for another SIP version,
 * RFC 3261 §8.2.2 / RFC 4475 §3.1.2), a response is discarded (RFC 3261 §18.1.2, RFC 4475 §3.1.2.18).
 */

export type Decoded =
  | { kind: 'message'; message: SipMessage }
  /** A request we refuse: `response` is ready to send (copies Via/From/To/Call-ID/CSeq as received). */
  | { kind: 'bad-request'; status: 400 | 505; reason: string; method: string; topVia?: SipVia; callId?: string; response: Buffer }
  | { kind: 'discard'; reason: string };

/** Compact forms (RFC 3261 §7.3.3 and the IANA registry). */
const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  u: 'allow-events',
  x: 'session-expires',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  y: 'identity',
};

/** Headers that may appear once only (RFC 3261 §7.3.1, RFC 4475 §3.2.7/§3.2.8). */
const SINGLE = new Set(['from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type']);
const MANDATORY = ['via', 'from', 'to', 'call-id', 'cseq'] as const;
const CRLF2 = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) SIP\/(\d+\.\d+)$/;
const STATUS_LINE = /^SIP\/(\d+\.\d+) (\d{3}) ([^\r\n]*)$/;
const RFC1123 = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

export interface DecodeOptions {
  /** Largest Content-Length accepted (bytes). */
  maxBodyBytes: number;
  /** Stream transport (TCP): Content-Length is mandatory (RFC 3261 §18.3, §20.14). */
  stream?: boolean;
}

interface RawHeader {
  name: string;
  value: string;
}

/** Parses one complete message (a datagram or a framed stream message). Never throws. */
export function decodeMessage(buf: Buffer, opts: DecodeOptions): Decoded {
  const end = buf.indexOf(CRLF2);
  if (end < 0) return { kind: 'discard', reason: 'no end of header section' };
  const lines = buf.toString('utf8', 0, end).split('\r\n');
  const first = lines[0] ?? '';
  if (first.startsWith('SIP/')) return decodeResponse(first, lines, buf, end, opts);
  let raw: RawHeader[];
  try {
    raw = unfold(lines);
  } catch (err) {
    return { kind: 'discard', reason: `${first.slice(0, 40)}: ${errText(err)}` };
  }
  const method = /^(\S+)/.exec(first)?.[1] ?? '';
  if (!raw.some((h) => h.name === 'via')) return { kind: 'discard', reason: 'request without Via' };
  // the top Via is parsed for a refusal only (where to send the 400/505): an accepted request's
  // Via list is parsed once, by typedHeaders
  const refuse = (status: 400 | 505, reason: string): Decoded => {
    const topVia = topViaOf(raw);
    return {
      kind: 'bad-request',
      status,
      reason,
      method,
      ...(topVia && { topVia }),
      ...(firstValue(raw, 'call-id') !== undefined && { callId: firstValue(raw, 'call-id') }),
      response: refusal(status, reason, raw),
    };
  };
  const rl = REQUEST_LINE.exec(first);
  if (!rl?.[1] || !rl[2] || !rl[3]) return refuse(400, 'Malformed Request-Line');
  // RFC 3261 §8.2.1 (§21.5.6): only SIP/2.0
  if (rl[3] !== '2.0') return refuse(505, 'Version Not Supported');
  try {
    checkRequestUri(rl[2]);
    const headers = typedHeaders(raw);
    const content = bodyOf(buf, end, headers, opts);
    if (headers.cseq?.method !== rl[1]) throw new SipSyntaxError('CSeq method does not match the Request-Line');
    const message: SipMessage = { method: rl[1], uri: rl[2], version: rl[3], headers };
    if (content !== undefined) message.content = content;
    return { kind: 'message', message };
  } catch (err) {
    return refuse(400, errText(err));
  }
}

/** The first Via of a refused request, when it parses (else the refusal goes back to the source). */
function topViaOf(raw: RawHeader[]): SipVia | undefined {
  try {
    return parseViaList(firstValue(raw, 'via') ?? '')[0];
  } catch {
    return undefined;
  }
}

function decodeResponse(first: string, lines: string[], buf: Buffer, end: number, opts: DecodeOptions): Decoded {
  const sl = STATUS_LINE.exec(first);
  const status = Number(sl?.[2]);
  if (!sl?.[1] || sl[1] !== '2.0' || !(status >= 100 && status <= 699)) return { kind: 'discard', reason: 'malformed Status-Line' };
  try {
    const headers = typedHeaders(unfold(lines));
    const content = bodyOf(buf, end, headers, opts);
    const message: SipMessage = { status, reason: sl[3] ?? '', version: sl[1], headers };
    if (content !== undefined) message.content = content;
    return { kind: 'message', message };
  } catch (err) {
    return { kind: 'discard', reason: `response: ${errText(err)}` };
  }
}

/** Lower-case canonical names (compact forms expanded) of header names already seen; bounded (names come from peers). */
const CANONICAL = new Map<string, string>();
export const CANONICAL_MAX = 512;
/** How many header names the decoder remembers (for the bound's test). */
export const canonicalNamesKept = (): number => CANONICAL.size;

/** A header name as written -> its canonical lower-case name; throws on a name that is not a token. */
function canonicalName(name: string): string {
  const known = CANONICAL.get(name);
  if (known !== undefined) return known;
  if (!TOKEN.test(name)) throw new SipSyntaxError('malformed header line');
  const lower = name.toLowerCase();
  const canonical = COMPACT[lower] ?? lower;
  if (CANONICAL.size < CANONICAL_MAX) CANONICAL.set(name, canonical);
  return canonical;
}

/** RFC 3261 §7.3.1: header lines, continuation lines (leading SP/HT) folded into one SP. */
function unfold(lines: string[]): RawHeader[] {
  const out: RawHeader[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) throw new SipSyntaxError('bare CR or LF in the header section');
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) {
      const last = out[out.length - 1];
      if (!last) throw new SipSyntaxError('continuation line before any header');
      last.value = `${last.value} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    out.push({ name: canonicalName(name), value: line.slice(colon + 1).trim() });
  }
  return out;
}

function firstValue(raw: RawHeader[], name: string): string | undefined {
  return raw.find((h) => h.name === name)?.value;
}

/** Raw headers -> the typed shape the stack uses; validates what RFC 3261 §8.1.1 makes mandatory. */
function typedHeaders(raw: RawHeader[]): SipHeaders {
  const h: SipHeaders = {};
  // every header line sets its property (a single-valued one to a string, number or object)
  for (const { name, value } of raw) {
    if (SINGLE.has(name) && h[name] !== undefined) throw new SipSyntaxError(`more than one ${name} header`);
    setHeader(h, name, value);
  }
  for (const name of MANDATORY) if (h[name] === undefined) throw new SipSyntaxError(`missing ${name} header`);
  if (!h['call-id'] || /\s/.test(h['call-id'])) throw new SipSyntaxError('malformed Call-ID');
  return h;
}

function setHeader(h: SipHeaders, name: string, value: string): void {
  switch (name) {
    case 'via':
      if (h.via) h.via.push(...parseViaList(value));
      else h.via = parseViaList(value);
      return;
    case 'to':
    case 'from':
      h[name] = parseNameAddr(value);
      return;
    case 'contact':
      if (value === '*') h.contact = '*';
      else if (h.contact === '*') throw new SipSyntaxError('Contact: * with other values');
      else if (h.contact) h.contact.push(...parseNameAddrList(value));
      else h.contact = parseNameAddrList(value);
      return;
    case 'route':
    case 'record-route':
      // URIs kept as text: IPv6 Record-Route entries must survive into the dialog's route set
      h[name] = h[name] ? [...(h[name] ?? []), ...parseNameAddrList(value)] : parseNameAddrList(value);
      return;
    case 'cseq':
      h.cseq = parseCSeq(value);
      return;
    case 'call-id':
      h['call-id'] = value;
      return;
    case 'content-length':
      h['content-length'] = parseBoundedInt(value, MAX_CSEQ, 'Content-Length');
      return;
    case 'max-forwards':
      h['max-forwards'] = String(parseBoundedInt(value, 255, 'Max-Forwards'));
      return;
    case 'date':
      if (!RFC1123.test(value)) throw new SipSyntaxError('Date is not an RFC 1123 date in GMT');
      h.date = value;
      return;
    case 'www-authenticate':
    case 'proxy-authenticate':
    case 'authorization':
    case 'proxy-authorization':
      h[name] = [...(h[name] ?? []), ...parseAuthList(value)];
      return;
    default: {
      const prev = h[name];
      // RFC 3261 §7.3.1: repeated lines of a header are one comma-separated list
      h[name] = typeof prev === 'string' ? `${prev},${value}` : value;
    }
  }
}

/** RFC 3261 §19.1.1: no headers in a SIP Request-URI; RFC 4475 §3.1.2.6/.7/.10. */
function checkRequestUri(uri: string): void {
  if (!/^sips?:/i.test(uri)) return assertAnyUri(uri, 'Request-URI');
  const sipUri = parseSipUri(uri); // parsed once: the check below needs its headers
  if (!sipUri) throw new SipSyntaxError('Request-URI: malformed SIP URI');
  if (Object.keys(sipUri.headers).length > 0) throw new SipSyntaxError('headers in the Request-URI');
}

/** §18.3: the body is Content-Length bytes; more bytes in a datagram are ignored, fewer are an error. */
function bodyOf(buf: Buffer, end: number, headers: SipHeaders, opts: DecodeOptions): string | undefined {
  const available = buf.length - end - 4;
  const declared = headers['content-length'];
  if (declared === undefined && opts.stream) throw new SipSyntaxError('missing Content-Length on a stream transport');
  const length = declared ?? available;
  if (length > opts.maxBodyBytes) throw new SipSyntaxError('message body too large');
  if (length > available) throw new SipSyntaxError('Content-Length larger than the body');
  return length > 0 ? buf.toString('utf8', end + 4, end + 4 + length) : undefined;
}

/** §8.2.6.1: a response copying Via, From, To, Call-ID, CSeq as received (they may be what is wrong). */
function refusal(status: number, reason: string, raw: RawHeader[]): Buffer {
  const copied = raw.filter((h) => ['via', 'from', 'to', 'call-id', 'cseq'].includes(h.name));
  const phrase = status === 505 ? 'Version Not Supported' : `Bad Request (${reason})`;
  return Buffer.from(
    writeHead(
      `SIP/2.0 ${status} ${phrase.replace(/[^\x20-\x7e]/g, '?')}`,
      copied.map((c) => [c.name, c.value]),
      0,
    ),
  );
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : 'malformed';
}

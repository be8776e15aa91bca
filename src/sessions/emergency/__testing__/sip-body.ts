/**
 * Test-only readers: SIP messages from a SIPp `-trace_msg` file, multipart/mixed bodies and PIDF-LO
 * documents, parsed back independently of the code that built them. Used by the unit specs next to
 * this folder and by test/e2e/emergency.e2e-spec.ts.
 */
import { XMLParser } from 'fast-xml-parser';

export interface SipText {
  startLine: string;
  /** Lower-case header names; repeated headers keep every value in order. */
  headers: Record<string, string[]>;
  body: string;
}

export interface BodyPart {
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

/** One SIP message (CRLF or LF line ends). The body is everything after the blank line, cut at Content-Length when given. */
export function parseSipText(text: string): SipText {
  const sep = /\r?\n\r?\n/.exec(text);
  const head = sep ? text.slice(0, sep.index) : text;
  let body = sep ? text.slice(sep.index + sep[0].length) : '';
  const lines = head.split(/\r?\n/);
  const headers: Record<string, string[]> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(i + 1).trim());
  }
  const length = Number(headers['content-length']?.[0] ?? headers['l']?.[0]);
  if (Number.isInteger(length) && length >= 0) body = body.slice(0, length);
  return { startLine: lines[0] ?? '', headers, body };
}

/** Messages SIPp received, in order, from its -trace_msg text (latin1: one char per byte, so Content-Length holds). */
export function receivedMessages(trace: string): SipText[] {
  const blocks = trace.split(/^-{10,} .*\r?\n/m);
  const out: SipText[] = [];
  for (const block of blocks) {
    const m = /^\w+ message received \[\d+\] bytes :\r?\n\r?\n/.exec(block);
    if (m) out.push(parseSipText(block.slice(m[0].length)));
  }
  return out;
}

/** The header value (first), or throws naming it. */
export function header(msg: { headers: Record<string, string[]> }, name: string): string {
  const v = msg.headers[name.toLowerCase()]?.[0];
  if (v === undefined) throw new Error(`no ${name} header`);
  return v;
}

/** RFC 2046 §5.1.1 reader. */
export function parseMultipart(contentType: string, body: string): BodyPart[] {
  const b = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = b?.[1] ?? b?.[2];
  if (!/^multipart\/mixed\s*;/i.test(contentType) || boundary === undefined) throw new Error(`not multipart/mixed with a boundary: ${contentType}`);
  const delimiter = `--${boundary}`;
  const close = body.indexOf(`\r\n${delimiter}--`);
  if (!body.startsWith(`${delimiter}\r\n`) || close < 0) throw new Error('multipart body is not delimited as RFC 2046 requires');
  const inner = body.slice(delimiter.length + 2, close);
  return inner.split(`\r\n${delimiter}\r\n`).map((chunk) => {
    const end = chunk.indexOf('\r\n\r\n');
    if (end < 0) throw new Error('part without header/body separator');
    const headers: Record<string, string> = {};
    for (const line of chunk.slice(0, end).split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return { headers, body: chunk.slice(end + 4) };
  });
}

export interface PidfLocation {
  entity: string;
  shape: 'Circle' | 'Ellipsoid';
  srsName: string;
  /** gml:pos: latitude, longitude[, altitude]. */
  pos: number[];
  /** Shape parameters by element name: radius, semiMajorAxis, semiMinorAxis, verticalAxis, orientation. */
  params: Record<string, number>;
  method?: string;
  confidence?: { pdf: string; value: number };
  timestamp?: string;
}

type XmlNode = Record<string, unknown>;
const isNode = (v: unknown): v is XmlNode => typeof v === 'object' && v !== null && !Array.isArray(v);
const child = (v: unknown, name: string): XmlNode | undefined => (isNode(v) && isNode(v[name]) ? v[name] : undefined);
const textOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : isNode(v) && typeof v['#text'] === 'string' ? v['#text'] : undefined);

/** Reads a PIDF-LO back (namespace prefixes dropped): the first location-info, in dm:device or tuple/status. */
export function parsePidfLo(xml: string): PidfLocation {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, trimValues: true });
  const doc: unknown = parser.parse(xml);
  const presence = child(doc, 'presence');
  if (!presence) throw new Error('no presence element');
  const geopriv = child(child(presence, 'device'), 'geopriv') ?? child(child(child(presence, 'tuple'), 'status'), 'geopriv');
  const info = child(geopriv, 'location-info');
  if (!geopriv || !info) throw new Error('no geopriv/location-info');
  const shapeName = isNode(info['Circle']) ? 'Circle' : isNode(info['Ellipsoid']) ? 'Ellipsoid' : undefined;
  if (!shapeName) throw new Error('no Circle or Ellipsoid');
  const shape = child(info, shapeName) ?? {};
  const params: Record<string, number> = {};
  for (const k of ['radius', 'semiMajorAxis', 'semiMinorAxis', 'verticalAxis', 'orientation']) {
    const t = textOf(shape[k]);
    if (t !== undefined) params[k] = Number(t);
  }
  const conf = child(info, 'confidence');
  const method = textOf(geopriv['method']);
  const timestamp = textOf(child(presence, 'device')?.['timestamp']) ?? textOf(child(presence, 'tuple')?.['timestamp']);
  return {
    entity: String(presence['@entity']),
    shape: shapeName,
    srsName: String(shape['@srsName']),
    pos: (textOf(shape['pos']) ?? '').split(/\s+/).map(Number),
    params,
    ...(method !== undefined && { method }),
    ...(conf && { confidence: { pdf: String(conf['@pdf']), value: Number(textOf(conf)) } }),
    ...(timestamp !== undefined && { timestamp }),
  };
}

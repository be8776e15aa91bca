import * as sip from 'sip';
import type { SipMessage } from 'sip';

/**
 * Message <-> bytes. The `sip` package reads and writes messages as latin1 ('binary') strings and
 * computes Content-Length as `content.length` in characters, so a UTF-8 body (e.g. `München` in a
 * PIDF-LO part) would be announced too short and mangled. Our rule: inside the gateway, `content`
 * and header values are ordinary JS strings; the conversion to/from UTF-8 bytes happens here only.
 */

const CRLF2 = Buffer.from('\r\n\r\n');

/** Serialises with a correct byte Content-Length; header section and body encoded as UTF-8. */
export function encodeMessage(m: SipMessage): Buffer {
  const body = m.content ? Buffer.from(m.content, 'utf8') : undefined;
  // copy headers: stringify() writes content-length into the object it is given
  const text = sip.stringify({ ...m, headers: { ...m.headers }, content: body ? body.toString('latin1') : undefined });
  const end = text.indexOf('\r\n\r\n') + 4;
  const head = Buffer.from(text.slice(0, end), 'utf8');
  return body ? Buffer.concat([head, body]) : head;
}

/** RFC 3261 §8.2.1 / §18.3 minimum: a message without these is discarded. */
export function isWellFormed(m: SipMessage): boolean {
  const h = m.headers;
  const validStart = m.method !== undefined ? typeof m.uri === 'string' && m.uri !== '' : typeof m.status === 'number' && m.status >= 100 && m.status <= 699;
  return (
    validStart &&
    Array.isArray(h.via) &&
    h.via.length > 0 &&
    typeof h.via[0]?.params === 'object' &&
    typeof h['call-id'] === 'string' &&
    h['call-id'] !== '' &&
    typeof h.to?.uri === 'string' &&
    typeof h.from?.uri === 'string' &&
    typeof h.cseq?.seq === 'number' &&
    Number.isFinite(h.cseq.seq) &&
    typeof h.cseq.method === 'string'
  );
}

/**
 * Parses one complete message (a datagram or a framed stream message). Returns undefined for
 * anything unparsable or missing the mandatory headers. Never throws.
 */
export function decodeMessage(buf: Buffer): SipMessage | undefined {
  try {
    const idx = buf.indexOf(CRLF2);
    if (idx < 0) return undefined;
    // headers as UTF-8, body as one char per byte so the package's substring(0, Content-Length) counts bytes
    const m = sip.parse(buf.toString('utf8', 0, idx) + buf.toString('latin1', idx));
    if (!m || !isWellFormed(m)) return undefined;
    if (m.content) m.content = Buffer.from(m.content, 'latin1').toString('utf8');
    return m;
  } catch {
    return undefined;
  }
}

/** Best-effort first line / Call-ID of raw bytes, for the log line of a message we could not parse. */
export function describeRaw(buf: Buffer): string {
  const s = buf.toString('latin1', 0, Math.min(buf.length, 200));
  return s.split('\r\n', 1)[0] ?? '';
}

export const MAX_HEADER_BYTES = 64 * 1024;
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Stream framing for TCP (RFC 3261 §18.3: Content-Length is mandatory on streams). Feeds complete
 * messages (raw bytes) to `onMessage`; returns false when the peer exceeded the limits (the caller
 * closes the connection).
 */
export function makeStreamFramer(onMessage: (raw: Buffer) => void): (chunk: Buffer) => boolean {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      // RFC 5626 §3.5.1 keep-alives (CRLFCRLF) and stray CRLFs between messages
      let start = 0;
      while (start + 1 < pending.length && pending[start] === 13 && pending[start + 1] === 10) start += 2;
      if (start > 0) pending = pending.subarray(start);
      const idx = pending.indexOf(CRLF2);
      if (idx < 0) return pending.length <= MAX_HEADER_BYTES;
      if (idx > MAX_HEADER_BYTES) return false;
      const head = pending.toString('latin1', 0, idx);
      const cl = /(?:^|\r\n)(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(head);
      const length = cl?.[1] ? Number(cl[1]) : 0;
      if (length > MAX_BODY_BYTES) return false;
      const total = idx + 4 + length;
      if (pending.length < total) return true;
      const raw = pending.subarray(0, total);
      pending = pending.subarray(total);
      onMessage(Buffer.from(raw));
    }
  };
}

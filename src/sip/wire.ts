import type { SipMessage } from 'sip';
import { Decoded, decodeMessage as decodeFull } from './syntax/message-codec';

export { encodeMessage } from './syntax/message-writer';
export type { Decoded } from './syntax/message-codec';

/**
 * Message <-> bytes and TCP framing. Parsing and serialising are our own (syntax/): inside the
 * gateway `content` and header values are ordinary JS strings; UTF-8 conversion happens there only.
 */

/** Default bound of one SIP message (header section + body), UDP or TCP: RFC 3261 §18.1.1 MTU rules aside, 64 KiB is what IMS elements use. */
export const DEFAULT_MAX_MESSAGE_BYTES = 65_535;

/** Parses one message and says what to do with a bad one (see syntax/message-codec.ts). Never throws. */
export function decodeSip(buf: Buffer, opts: { maxMessageBytes?: number; stream?: boolean } = {}): Decoded {
  const max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (buf.length > max) return { kind: 'discard', reason: `message larger than ${max} bytes` };
  return decodeFull(buf, { maxBodyBytes: max, stream: opts.stream === true });
}

/** The message, or undefined for anything we would not accept. Never throws. */
export function decodeMessage(buf: Buffer): SipMessage | undefined {
  const d = decodeSip(buf);
  return d.kind === 'message' ? d.message : undefined;
}

/** Best-effort first line of raw bytes, for the log line of a message we could not parse. */
export function describeRaw(buf: Buffer): string {
  const s = buf.toString('latin1', 0, Math.min(buf.length, 120));
  return (s.split('\r\n', 1)[0] ?? '').replace(/[^\x20-\x7e]/g, '?');
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** `ok`: keep reading; `too-large`: over the limit (close); `bad-framing`: Content-Length unusable (the head was passed on to be answered 400, then close). */
export type FrameResult = 'ok' | 'too-large' | 'bad-framing';

/**
 * Stream framing for TCP (RFC 3261 §18.3: Content-Length is mandatory on streams and locates the
 * end of each message). Feeds complete messages (raw bytes) to `onMessage`. A head with no, a
 * malformed or more than one Content-Length cannot be framed: it is handed on alone (the decoder
 * refuses it with 400) and the connection must be closed, so a second Content-Length can never
 * smuggle a second request.
 */
export function makeStreamFramer(onMessage: (raw: Buffer) => void, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): (chunk: Buffer) => FrameResult {
  let pending: Buffer = Buffer.alloc(0);
  let dead = false;
  return (chunk) => {
    if (dead) return 'bad-framing';
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      // RFC 5626 §3.5.1 keep-alives (CRLFCRLF) and stray CRLFs between messages
      let start = 0;
      while (start + 1 < pending.length && pending[start] === 13 && pending[start + 1] === 10) start += 2;
      if (start > 0) pending = pending.subarray(start);
      const idx = pending.indexOf(CRLF2);
      if (idx < 0) return pending.length <= maxMessageBytes ? 'ok' : 'too-large';
      if (idx + 4 > maxMessageBytes) return 'too-large';
      const head = pending.toString('latin1', 0, idx);
      const values = [...head.matchAll(/\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)/gi)].map((m) => (m[1] ?? '').trim());
      if (values.length !== 1 || !/^\d{1,10}$/.test(values[0] ?? '')) {
        dead = true;
        onMessage(Buffer.from(pending.subarray(0, idx + 4)));
        return 'bad-framing';
      }
      const total = idx + 4 + Number(values[0]);
      if (total > maxMessageBytes) return 'too-large';
      if (pending.length < total) return 'ok';
      const raw = pending.subarray(0, total);
      pending = pending.subarray(total);
      onMessage(Buffer.from(raw));
    }
  };
}

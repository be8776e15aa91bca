/**
 * `multipart/mixed` bodies (RFC 2046 §5.1) for SIP requests that carry more than one
 * body, e.g. an emergency INVITE with SDP and PIDF-LO (RFC 6442 §3, RFC 5621).
 */
import { randomBytes } from 'crypto';

export interface MultipartPart {
  /** e.g. `application/sdp`, `application/pidf+xml`. */
  contentType: string;
  /** RFC 2392 Content-ID, with or without angle brackets; referenced as `cid:` (RFC 6442 Geolocation header). */
  contentId?: string;
  body: string;
}

export interface MultipartBody {
  /** Value for the Content-Type header, e.g. `multipart/mixed;boundary=...`. */
  contentType: string;
  body: string;
}

/** A boundary we can reject is a bug in our code, not client input. */
export class MultipartError extends Error {
  override readonly name = 'MultipartError';
}

/** RFC 2046 §5.1.1 bchars, 1..70 characters, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
/** RFC 2045 §5.1 token characters: anything else needs a quoted boundary parameter. */
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;
const HEADER_VALUE = /^[^\r\n]+$/;

function collides(boundary: string, parts: readonly MultipartPart[]): boolean {
  return parts.some((p) => p.body.includes(`--${boundary}`));
}

/**
 * Builds a `multipart/mixed` body with CRLF line endings. The boundary is random
 * unless given; a given boundary must be valid and must not occur in any part.
 */
export function buildMultipartBody(parts: ReadonlyArray<MultipartPart>, boundary?: string): MultipartBody {
  if (parts.length === 0) throw new MultipartError('multipart/mixed needs at least one part');
  for (const p of parts) {
    if (!HEADER_VALUE.test(p.contentType)) throw new MultipartError(`Invalid part Content-Type ${JSON.stringify(p.contentType)}`);
    if (p.contentId !== undefined && !HEADER_VALUE.test(p.contentId)) {
      throw new MultipartError(`Invalid part Content-ID ${JSON.stringify(p.contentId)}`);
    }
  }
  let b = boundary;
  if (b === undefined) {
    do b = `boundary-${randomBytes(12).toString('hex')}`;
    while (collides(b, parts));
  } else {
    if (!BOUNDARY.test(b)) throw new MultipartError(`Invalid multipart boundary ${JSON.stringify(b)} (RFC 2046 §5.1.1)`);
    if (collides(b, parts)) throw new MultipartError(`Multipart boundary ${JSON.stringify(b)} occurs in a body part`);
  }
  const chunks: string[] = [];
  for (const p of parts) {
    const headers = [`Content-Type: ${p.contentType}`];
    if (p.contentId !== undefined) {
      const id = p.contentId.startsWith('<') ? p.contentId : `<${p.contentId}>`;
      headers.push(`Content-ID: ${id}`);
    }
    // RFC 2046 §5.1.1: the CRLF before "--boundary" belongs to the delimiter, not to the part.
    chunks.push(`--${b}\r\n${headers.join('\r\n')}\r\n\r\n${p.body}\r\n`);
  }
  const body = `${chunks.join('')}--${b}--\r\n`;
  const param = TOKEN.test(b) ? b : `"${b}"`;
  return { contentType: `multipart/mixed;boundary=${param}`, body };
}

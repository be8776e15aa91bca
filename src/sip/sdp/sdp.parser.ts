/**
 * Validation and normalisation of SDP received from clients and from the network.
 *
 * Syntax per RFC 8866 (which obsoletes RFC 4566) §5; offer/answer rules per RFC 3264.
 * Every SDP that enters the gateway goes through {@link parseOffer}: the HTTP layer
 * for CAMARA `offer.sdp`/`answer.sdp`, the SIP layer for bodies from the IMS core.
 */
import { parse, SessionDescription } from 'sdp-transform';
import { applyImsProfile } from './ims-profile';
import { parseMediaLine, SdpDocument, toDocument, trimLineEnd, writeDocument } from './sdp-document';
import { SdpError } from './sdp.error';

/**
 * - `passthrough`: validate and normalise, keep every line.
 * - `ims`: additionally remove the WebRTC-only attributes listed in `ims-profile.ts`.
 */
export type SdpProfile = 'passthrough' | 'ims';

export interface ParseOfferOptions {
  readonly profile: SdpProfile;
  /**
   * Emergency calls (CAMARA `callType: EMERGENCY`) must not fail on cosmetics: lines
   * that are not `<type>=<value>`, have an unknown type, are too long or are misplaced
   * are dropped (and reported) instead of rejected, as are m-sections whose `m=` line
   * is unusable, as long as one usable m-section remains. Size bounds still apply.
   */
  readonly lenient?: boolean;
}

export interface ParsedSdp {
  /** Normalised SDP: CRLF line endings, no trailing blanks, profile applied. */
  readonly sdp: string;
  /** Structured read-only view of `sdp` (sdp-transform). */
  readonly session: SessionDescription;
  /** Lines dropped in lenient mode (as received, untrimmed), in input order. */
  readonly dropped: string[];
}

/** Bounds that keep a hostile SDP from costing us memory or CPU. */
export const SDP_LIMITS = {
  /** CAMARA `WrtcSdpDescriptor.sdp` has `maxLength: 65536`. */
  maxBytes: 65536,
  maxMediaSections: 16,
  maxCandidatesPerSection: 256,
  maxLineLength: 4096,
} as const;

/**
 * Transport protocols we accept in `m=` lines (IANA "SDP proto" registry), compared
 * case-insensitively: RFC 3551/3711/4585/5124 RTP profiles, RFC 5764 and RFC 8843 DTLS-SRTP
 * forms, RFC 4571 RTP over TCP, RFC 8841 SCTP data channels, RFC 4975/7977 MSRP,
 * RFC 8856 BFCP, T.38 `udptl`, and the plain `udp`/`tcp` of RFC 8866 §5.14.
 */
export const KNOWN_PROTOCOLS: ReadonlySet<string> = new Set([
  'RTP/AVP',
  'RTP/SAVP',
  'RTP/AVPF',
  'RTP/SAVPF',
  'UDP/TLS/RTP/SAVP',
  'UDP/TLS/RTP/SAVPF',
  'TCP/TLS/RTP/SAVP',
  'TCP/TLS/RTP/SAVPF',
  'TCP/RTP/AVP',
  'TCP/RTP/AVPF',
  'TCP/RTP/SAVP',
  'TCP/RTP/SAVPF',
  'DTLS/SCTP',
  'UDP/DTLS/SCTP',
  'TCP/DTLS/SCTP',
  'TCP/MSRP',
  'TCP/TLS/MSRP',
  'TCP/WS/MSRP',
  'TCP/WSS/MSRP',
  'TCP/BFCP',
  'TCP/TLS/BFCP',
  'UDP/BFCP',
  'UDP/TLS/BFCP',
  'UDPTL',
  'UDP/UDPTL',
  'UDP',
  'TCP',
  'TCP/TLS',
]);

/** RFC 8866 §5 type letters (plus `k=`, obsolete but still legal to receive). */
const KNOWN_TYPES = new Set(['v', 'o', 's', 'i', 'u', 'e', 'p', 'c', 'b', 't', 'r', 'z', 'k', 'a', 'm']);
/** RFC 8866 §5: these may appear only before the first m= line. */
const SESSION_ONLY_TYPES = new Set(['v', 'o', 's', 'u', 'e', 'p', 't', 'r', 'z']);
/** Visible characters and space/tab; RFC 8866 §9 excludes NUL, CR, LF from values. */
// eslint-disable-next-line no-control-regex -- RFC 8866 §9 excludes these control characters from values
const LINE_FORM = /^([a-z])=([^\x00-\x08\x0a-\x1f\x7f]+)$/;
const ORIGIN = /^o=\S+ \S+ \d+ \S+ \S+ \S+$/;
const CONNECTION = /^c=IN IP[46] \S+$/;

/** Renders a line for an error message: quoted, escaped, at most 80 characters. */
function quote(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 77)}...` : line);
}

interface NumberedLine {
  readonly n: number;
  readonly raw: string;
  readonly text: string;
}

/** Validates, normalises and applies a profile. Throws {@link SdpError} naming the problem. */
export function parseOffer(text: string, opts: ParseOfferOptions): ParsedSdp {
  const lenient = opts.lenient === true;
  if (typeof text !== 'string') throw new SdpError('SDP must be a string');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > SDP_LIMITS.maxBytes) {
    throw new SdpError(`SDP is ${bytes} bytes, more than the ${SDP_LIMITS.maxBytes} allowed`);
  }

  const dropped: string[] = [];
  const reject = (line: NumberedLine, message: string): void => {
    if (!lenient) throw new SdpError(message);
    dropped.push(line.raw);
  };

  // Trailing blank lines and padding are not content (cosmetic; RFC 8866 §5 ends every line with CRLF).
  const rawLines = text.split(/\r\n|\r|\n/);
  while (rawLines.length > 0 && /^[\s\0]*$/.test(rawLines[rawLines.length - 1] ?? '')) rawLines.pop();

  // Pass 1: line form.
  const lines: NumberedLine[] = [];
  rawLines.forEach((raw, i) => {
    const line: NumberedLine = { n: i + 1, raw, text: trimLineEnd(raw) };
    if (line.text.length > SDP_LIMITS.maxLineLength) {
      return reject(line, `SDP line ${line.n} is ${line.text.length} characters long, more than the ${SDP_LIMITS.maxLineLength} allowed`);
    }
    const form = LINE_FORM.exec(line.text);
    if (!form) return reject(line, `SDP line ${line.n} is not of the form <type>=<value>: ${quote(raw)}`);
    if (!KNOWN_TYPES.has(form[1] ?? '')) {
      return reject(line, `SDP line ${line.n} has unknown type "${form[1] ?? ''}=": ${quote(raw)}`);
    }
    lines.push(line);
  });

  // Pass 2: v=0 first (RFC 8866 §5.1). Lenient: drop whatever precedes it.
  const vIndex = lines.findIndex((l) => l.text.startsWith('v='));
  if (vIndex === -1) throw new SdpError('SDP has no v= line');
  const first = lines[0];
  if (vIndex > 0 && first) {
    if (!lenient) throw new SdpError(`SDP must start with "v=0", but line ${first.n} is ${quote(first.raw)}`);
    dropped.push(...lines.splice(0, vIndex).map((l) => l.raw));
  }
  const vLine = lines[0];
  if (!vLine || vLine.text !== 'v=0') {
    throw new SdpError(`SDP line ${vLine?.n ?? 1} must be "v=0": ${quote(vLine?.raw ?? '')}`);
  }

  // Pass 3: per-line rules, section by section.
  const kept: string[] = [];
  let inMedia = false;
  let skippingSection = false;
  let mediaCount = 0;
  let candidates = 0;
  let sessionConnection = false;
  let sectionConnection = true;
  let sectionLine: NumberedLine | undefined;
  const missingConnection: Array<{ index: number; line: NumberedLine }> = [];
  const closeSection = (): void => {
    if (sectionLine && !sectionConnection) missingConnection.push({ index: mediaCount, line: sectionLine });
  };
  const seen = new Set<string>();

  lines.forEach((line, i) => {
    const type = line.text[0] ?? '';
    if (type === 'm') {
      closeSection();
      const m = parseMediaLine(line.text);
      let problem: string | undefined;
      if (!m) problem = `SDP line ${line.n}: m= line must be "<media> <port> <proto> <fmt> ...": ${quote(line.raw)}`;
      else if (m.port > 65535) problem = `SDP line ${line.n}: m= port ${m.port} is out of range 0..65535`;
      else if (!KNOWN_PROTOCOLS.has(m.proto.toUpperCase())) problem = `SDP line ${line.n}: m= protocol "${m.proto}" is not supported`;
      if (problem !== undefined) {
        reject(line, problem);
        inMedia = true;
        skippingSection = true;
        sectionLine = undefined;
        return;
      }
      mediaCount += 1;
      if (mediaCount > SDP_LIMITS.maxMediaSections) {
        throw new SdpError(`SDP has more than ${SDP_LIMITS.maxMediaSections} m= lines (line ${line.n})`);
      }
      inMedia = true;
      skippingSection = false;
      candidates = 0;
      sectionConnection = false;
      sectionLine = line;
      kept.push(line.text);
      return;
    }
    if (skippingSection) {
      dropped.push(line.raw);
      return;
    }
    if (i > 0 && type === 'v') return reject(line, `SDP line ${line.n}: v= may appear only once`);
    if (inMedia && SESSION_ONLY_TYPES.has(type)) {
      return reject(line, `SDP line ${line.n}: ${type}= is only allowed before the first m= line: ${quote(line.raw)}`);
    }
    if (type === 'o' && !ORIGIN.test(line.text)) {
      return reject(line, `SDP line ${line.n}: o= must be "<username> <sess-id> <sess-version> <nettype> <addrtype> <address>": ${quote(line.raw)}`);
    }
    if (type === 'c') {
      if (!CONNECTION.test(line.text)) {
        return reject(line, `SDP line ${line.n}: c= must be "IN IP4|IP6 <address>": ${quote(line.raw)}`);
      }
      if (inMedia) sectionConnection = true;
      else sessionConnection = true;
    }
    if (!inMedia && (type === 'o' || type === 's' || type === 't')) {
      if (type !== 't' && seen.has(type)) return reject(line, `SDP line ${line.n}: ${type}= may appear only once`);
      seen.add(type);
    }
    if (line.text.startsWith('a=candidate:')) {
      candidates += 1;
      if (candidates > SDP_LIMITS.maxCandidatesPerSection) {
        throw new SdpError(`SDP m= section ${mediaCount} (line ${sectionLine?.n ?? line.n}) has more than ${SDP_LIMITS.maxCandidatesPerSection} candidates`);
      }
    }
    kept.push(line.text);
  });
  closeSection();

  for (const type of ['o', 's', 't']) {
    if (!seen.has(type)) throw new SdpError(`SDP has no ${type}= line`);
  }
  if (mediaCount === 0) throw new SdpError(lenient ? 'SDP has no usable m= line' : 'SDP has no m= line');
  // RFC 8866 §5.7: c= at session level or in every media description.
  const missing = sessionConnection ? undefined : missingConnection[0];
  if (missing) {
    throw new SdpError(`SDP m= section ${missing.index} (line ${missing.line.n}) has no c= line and there is no session-level c= line`);
  }

  let doc: SdpDocument = toDocument(kept);
  if (opts.profile === 'ims') doc = applyImsProfile(doc).doc;
  const sdp = writeDocument(doc);
  return { sdp, session: parse(sdp), dropped };
}

/** {@link parseOffer} with the `passthrough` profile unless told otherwise. */
export function validateSdp(text: string, opts: Partial<ParseOfferOptions> = {}): ParsedSdp {
  return parseOffer(text, { profile: opts.profile ?? 'passthrough', lenient: opts.lenient });
}

/** The canonical form of an SDP; idempotent: `normaliseSdp(normaliseSdp(x)) === normaliseSdp(x)`. */
export function normaliseSdp(text: string, opts: Partial<ParseOfferOptions> = {}): string {
  return validateSdp(text, opts).sdp;
}

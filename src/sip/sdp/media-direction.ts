/**
 * Media direction (RFC 8866 §6.7, RFC 3264) for hold/resume and re-INVITE answers.
 *
 * These helpers work on SDP we already validated (our own last SDP, or an offer that
 * went through `parseOffer`); they only read and rewrite direction attributes, the
 * `o=` version and, for streams the offer disables, the `m=` port.
 */
import { attributeName, formatMediaLine, mLineOf, parseMediaLine, readDocument, SdpDocument, writeDocument } from './sdp-document';
import { SdpError } from './sdp.error';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTIONS: ReadonlySet<string> = new Set<MediaDirection>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

function isDirection(value: string | undefined): value is MediaDirection {
  return value !== undefined && DIRECTIONS.has(value);
}

function directionIn(lines: readonly string[]): MediaDirection | undefined {
  for (const line of lines) {
    const name = attributeName(line);
    if (isDirection(name)) return name;
  }
  return undefined;
}

function sectionDirection(doc: SdpDocument, index: number): MediaDirection {
  const block = doc.media[index];
  if (!block) throw new SdpError(`SDP has no m= section ${index} (it has ${doc.media.length})`);
  // RFC 8866 §6.7: media-level overrides session-level; the default is sendrecv.
  return directionIn(block) ?? directionIn(doc.session) ?? 'sendrecv';
}

/**
 * Effective direction of m-section `mediaIndex` (0-based; default 0, the first one),
 * taking the session-level attribute and the `sendrecv` default into account.
 */
export function getDirection(sdp: string, mediaIndex = 0): MediaDirection {
  return sectionDirection(readDocument(sdp), mediaIndex);
}

function withDirection(lines: readonly string[], dir: MediaDirection): string[] {
  let placed = false;
  const out: string[] = [];
  for (const line of lines) {
    if (isDirection(attributeName(line))) {
      // Replace the first one in place (keeps the SDP stable), drop any others.
      if (!placed) out.push(`a=${dir}`);
      placed = true;
    } else {
      out.push(line);
    }
  }
  if (!placed) out.push(`a=${dir}`);
  return out;
}

function withoutDirection(lines: readonly string[]): string[] {
  return lines.filter((line) => !isDirection(attributeName(line)));
}

function setDirectionInDocument(doc: SdpDocument, dirs: readonly MediaDirection[]): SdpDocument {
  return {
    // The session-level attribute would otherwise apply to sections we leave alone.
    session: withoutDirection(doc.session),
    media: doc.media.map((block, i) => withDirection(block, dirs[i] ?? 'sendrecv')),
  };
}

/**
 * Sets the direction of every m-section (or only `mediaIndex`), at media level, and
 * removes the session-level direction attribute (keeping other sections' effective
 * direction by writing it at their media level).
 */
export function setDirection(sdp: string, dir: MediaDirection, mediaIndex?: number): string {
  const doc = readDocument(sdp);
  if (mediaIndex !== undefined && !doc.media[mediaIndex]) {
    throw new SdpError(`SDP has no m= section ${mediaIndex} (it has ${doc.media.length})`);
  }
  const dirs = doc.media.map((_, i) => (mediaIndex === undefined || i === mediaIndex ? dir : sectionDirection(doc, i)));
  return writeDocument(setDirectionInDocument(doc, dirs));
}

/** RFC 3264 §8.4: put a stream on hold. sendrecv→sendonly, recvonly→inactive; others unchanged. */
export function holdDirection(current: MediaDirection): MediaDirection {
  switch (current) {
    case 'sendrecv':
      return 'sendonly';
    case 'recvonly':
      return 'inactive';
    case 'sendonly':
    case 'inactive':
      return current;
  }
}

/** Inverse of {@link holdDirection}: sendonly→sendrecv, inactive→recvonly; others unchanged. */
export function resumeDirection(current: MediaDirection): MediaDirection {
  switch (current) {
    case 'sendonly':
      return 'sendrecv';
    case 'inactive':
      return 'recvonly';
    case 'sendrecv':
    case 'recvonly':
      return current;
  }
}

const sends = (d: MediaDirection): boolean => d === 'sendrecv' || d === 'sendonly';
const receives = (d: MediaDirection): boolean => d === 'sendrecv' || d === 'recvonly';

function fromFlags(send: boolean, recv: boolean): MediaDirection {
  if (send && recv) return 'sendrecv';
  if (send) return 'sendonly';
  if (recv) return 'recvonly';
  return 'inactive';
}

/**
 * RFC 3264 §6.1: the direction of a stream in the answer. We may send only what the
 * offerer receives and receive only what it sends, and no more than we want:
 * offer sendonly → recvonly/inactive, recvonly → sendonly/inactive, inactive → inactive,
 * sendrecv → whatever `localWanted` is.
 */
export function answerDirection(offerDirection: MediaDirection, localWanted: MediaDirection = 'sendrecv'): MediaDirection {
  return fromFlags(sends(localWanted) && receives(offerDirection), receives(localWanted) && sends(offerDirection));
}

/** RFC 3264 §5: sess-version is the third field of `o=`. */
const ORIGIN = /^o=(\S+) (\S+) (\d+) (.+)$/;

function incrementVersion(session: readonly string[]): string[] {
  let found = false;
  const out = session.map((line) => {
    const m = ORIGIN.exec(line);
    if (!m || m[3] === undefined) return line;
    found = true;
    // Versions may exceed 2^53 (Chrome uses 64-bit values for o= fields): use BigInt.
    return `o=${m[1] ?? ''} ${m[2] ?? ''} ${(BigInt(m[3]) + 1n).toString()} ${m[4] ?? ''}`;
  });
  if (!found) throw new SdpError('SDP has no usable o= line');
  return out;
}

/** The same SDP with its `o=` session version incremented: a new offer in an existing session (RFC 3264 §8). */
export function nextVersion(sdp: string): string {
  const doc = readDocument(sdp);
  return writeDocument({ ...doc, session: incrementVersion(doc.session) });
}

/**
 * Answer to a re-offer (e.g. hold or resume from the IMS side) built from our last
 * SDP: each section's direction is {@link answerDirection} of the new offer's,
 * streams the offer disabled (port 0) are disabled too (RFC 3264 §8.2), streams
 * it added are rejected with port 0 (RFC 3264 §6, §8.1: we have no media for them),
 * and the `o=` version is incremented (RFC 3264 §8: "MUST increment by one").
 * Throws {@link SdpError} if the offer removed m= lines (RFC 3264 §8: it cannot).
 */
export function adaptAnswerToOffer(lastLocalSdp: string, newOfferSdp: string, localWanted: MediaDirection = 'sendrecv'): string {
  const local = readDocument(lastLocalSdp);
  const offer = readDocument(newOfferSdp);
  if (offer.media.length < local.media.length) {
    throw new SdpError(`SDP offer has ${offer.media.length} m= lines but the previous SDP had ${local.media.length}; RFC 3264 §8 forbids removing m= lines`);
  }
  const media = offer.media.map((offerBlock, i): string[] => {
    const offered = parseMediaLine(mLineOf(offerBlock));
    if (!offered) throw new SdpError(`SDP offer m= section ${i} has an invalid m= line`);
    const localBlock = local.media[i];
    if (!localBlock) return [formatMediaLine({ ...offered, port: 0, portCount: undefined })];
    const ours = parseMediaLine(mLineOf(localBlock));
    if (!ours) throw new SdpError(`Previous SDP m= section ${i} has an invalid m= line`);
    const dir = answerDirection(sectionDirection(offer, i), localWanted);
    const block = withDirection(localBlock, dir);
    if (offered.port === 0 && ours.port !== 0) block[0] = formatMediaLine({ ...ours, port: 0 });
    return block;
  });
  return writeDocument({ session: incrementVersion(withoutDirection(local.session)), media });
}

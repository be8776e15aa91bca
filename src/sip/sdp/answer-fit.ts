import { mLineOf, parseMediaLine, readDocument } from './sdp-document';
import { SdpError } from './sdp.error';

/**
 * Checks that `answer` answers `offer` (RFC 3264 §6): exactly as many m= lines, in the same order,
 * each with the offer's media type and transport profile (a `UDP/TLS/RTP/SAVPF` offer cannot be
 * answered `RTP/AVP`). A stream the answer rejects (port 0) keeps its media type but may use
 * any profile. Throws an {@link SdpError} naming the first m= line that does not fit.
 */
export function checkAnswerFitsOffer(offer: string, answer: string): void {
  const offered = readDocument(offer).media;
  const answered = readDocument(answer).media;
  if (answered.length !== offered.length) {
    throw new SdpError(`the answer has ${answered.length} m= lines but the offer it answers has ${offered.length} (RFC 3264 §6: exactly as many, in the same order)`);
  }
  answered.forEach((block, i) => {
    const line = mLineOf(block);
    const a = parseMediaLine(line);
    const o = parseMediaLine(mLineOf(offered[i] ?? []));
    if (!a || !o) throw new SdpError(`m= line ${i + 1} ("${line}") is not a valid m= line`);
    if (a.media.toLowerCase() !== o.media.toLowerCase()) {
      throw new SdpError(`m= line ${i + 1} ("${line}") is ${a.media} but the offer's m= line ${i + 1} is ${o.media} (RFC 3264 §6)`);
    }
    if (a.port !== 0 && a.proto.toUpperCase() !== o.proto.toUpperCase()) {
      throw new SdpError(`m= line ${i + 1} ("${line}") uses ${a.proto} but the offer's m= line ${i + 1} uses ${o.proto} (RFC 3264 §6)`);
    }
  });
}

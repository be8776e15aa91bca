/**
 * The `ims` SDP profile: what we strip from a browser's SDP before it goes to an
 * IMS core (P-CSCF / IMS-AGW, 3GPP TS 24.229, TS 24.371).
 *
 * Deliberately short. RFC 8866 §5.13 says unknown attributes MUST be ignored, so
 * we only remove attributes that (a) carry no meaning for media once they leave the
 * browser, and (b) are known to trip older SIP/SDP stacks or to promise something
 * this gateway cannot deliver. Nothing that media needs to flow is touched:
 * ICE (ufrag/pwd/candidates), DTLS (fingerprint/setup), SDES (crypto), BUNDLE
 * (group/mid), rtcp-mux, codecs (rtpmap/fmtp/rtcp-fb), extmap, ssrc and msid all stay.
 */
import { attributeName, SdpDocument } from './sdp-document';

/** One documented removal, applied to session-level and media-level lines alike. */
export interface ImsRemoval {
  /** Attribute name as in `a=<name>[:value]`. */
  readonly attribute: string;
  /** Why IMS cores are better off without it. */
  readonly reason: string;
}

export const IMS_REMOVALS: readonly ImsRemoval[] = [
  {
    // RFC 8285 §6. Chrome sends it since M71 (session level) and M89 (media level).
    attribute: 'extmap-allow-mixed',
    reason:
      'RFC 8285 §6 opt-in to mixing one- and two-byte RTP header extensions; valueless ' +
      'attributes it introduced broke several SIP/SDP parsers when Chrome 71 shipped it. ' +
      'Without it the peer simply does not mix forms, which every RTP stack supports.',
  },
  {
    // draft-ietf-mmusic-msid (pre RFC 8830). RFC 8830 dropped msid-semantic.
    attribute: 'msid-semantic',
    reason: 'Legacy WebRTC stream grouping ("a=msid-semantic: WMS ..." with a non-standard leading ' + 'space); removed from the final RFC 8830 and meaningless to an IMS media plane.',
  },
  {
    attribute: 'x-google-flag',
    reason: 'Proprietary Chrome flag ("conference") with no standard meaning outside Google stacks.',
  },
];

/**
 * `a=ice-options` tokens we remove (RFC 8445 §10). The attribute itself stays when
 * other tokens (e.g. `renomination`) remain.
 */
export const IMS_REMOVED_ICE_OPTIONS: readonly ImsRemoval[] = [
  {
    attribute: 'trickle',
    reason:
      'RFC 8840 §4.1: "trickle" tells the SIP peer it may send candidates in INFO requests ' +
      '(Info-Package trickle-ice). The CAMARA API has no way to relay them to the browser, ' +
      'so advertising trickle would be a promise this gateway cannot keep.',
  },
];

const removedAttributes = new Set(IMS_REMOVALS.map((r) => r.attribute));
const removedIceOptions = new Set(IMS_REMOVED_ICE_OPTIONS.map((r) => r.attribute));

// Stryker disable next-line Regex: splitting on single spaces yields empty tokens, which filterLines drops anyway
const TOKEN_SEPARATOR = /\s+/;

function filterLines(lines: readonly string[], removed: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const name = attributeName(line);
    // Stryker disable next-line ConditionalExpression: the Set never holds undefined, the guard only narrows the type
    if (name !== undefined && removedAttributes.has(name)) {
      removed.push(line);
      continue;
    }
    if (name === 'ice-options') {
      const tokens = line
        .slice('a=ice-options:'.length)
        .split(TOKEN_SEPARATOR)
        .filter((t) => t.length > 0);
      const kept = tokens.filter((t) => !removedIceOptions.has(t));
      if (kept.length === tokens.length) {
        out.push(line);
        continue;
      }
      removed.push(line);
      if (kept.length > 0) out.push(`a=ice-options:${kept.join(' ')}`);
      continue;
    }
    out.push(line);
  }
  return out;
}

/** Applies the `ims` profile. Never removes an `m=` line, codec line or candidate. */
export function applyImsProfile(doc: SdpDocument): { doc: SdpDocument; removed: string[] } {
  const removed: string[] = [];
  const session = filterLines(doc.session, removed);
  const media = doc.media.map((block) => filterLines(block, removed));
  return { doc: { session, media }, removed };
}

import { invalidArgument } from '../common/errors/api-error';
import { checkAnswerFitsOffer, parseOffer, SdpError } from '../sip/sdp';

/**
 * Validates an SDP the app sent (offer or answer); a bad one is a CAMARA 400 naming the field and
 * line. `answers`: the offer this SDP answers, which it must fit (RFC 3264 §6) before SIP sees it.
 */
export function parseAppSdp(sdp: string, profile: Parameters<typeof parseOffer>[1]['profile'], field: string, answers?: string): string {
  try {
    const parsed = parseOffer(sdp, { profile }).sdp;
    if (answers !== undefined) checkAnswerFitsOffer(answers, sdp);
    return parsed;
  } catch (err) {
    if (err instanceof SdpError) throw invalidArgument(`${field}: ${err.message}`);
    throw err;
  }
}

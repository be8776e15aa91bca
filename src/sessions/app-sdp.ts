import { invalidArgument } from '../common/errors/api-error';
import { parseOffer, SdpError } from '../sip/sdp';

/** Validates an SDP the app sent (offer or answer); a bad one is a CAMARA 400 naming the field and line. */
export function parseAppSdp(sdp: string, profile: Parameters<typeof parseOffer>[1]['profile'], field: string): string {
  try {
    return parseOffer(sdp, { profile }).sdp;
  } catch (err) {
    if (err instanceof SdpError) throw invalidArgument(`${field}: ${err.message}`);
    throw err;
  }
}

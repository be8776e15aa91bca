/** The one SDP module: validation/normalisation, profiles, direction, redaction. */
export { SdpError } from './sdp.error';
export type { SdpErrorCode } from './sdp.error';
export { parseOffer, validateSdp, normaliseSdp, SDP_LIMITS, KNOWN_PROTOCOLS } from './sdp.parser';
export type { ParseOfferOptions, ParsedSdp, SdpProfile } from './sdp.parser';
export { IMS_REMOVALS, IMS_REMOVED_ICE_OPTIONS } from './ims-profile';
export type { ImsRemoval } from './ims-profile';
export { getDirection, setDirection, holdDirection, resumeDirection, answerDirection, adaptAnswerToOffer, nextVersion } from './media-direction';
export type { MediaDirection } from './media-direction';
export { redactSdp, redactSecrets } from './sdp-redaction';
export { checkAnswerFitsOffer } from './answer-fit';

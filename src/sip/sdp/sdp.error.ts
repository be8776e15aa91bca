/** Codes a client can cause; the HTTP layer maps them onto CAMARA `ErrorInfo` (400). */
export type SdpErrorCode = 'INVALID_ARGUMENT';

/**
 * Thrown for an SDP the client sent that we refuse (RFC 4566/8866 syntax, our size bounds).
 * `message` names the offending line so the client can fix it.
 */
export class SdpError extends Error {
  override readonly name = 'SdpError';
  constructor(
    message: string,
    readonly code: SdpErrorCode = 'INVALID_ARGUMENT',
  ) {
    super(message);
  }
}

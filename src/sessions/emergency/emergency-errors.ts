/**
 * Client errors raised while planning emergency and located calls, as CAMARA `ErrorInfo`.
 *
 * | thrown                               | client sees                                          |
 * |--------------------------------------|------------------------------------------------------|
 * | `LocationError` OUT_OF_RANGE          | 400 OUT_OF_RANGE, message names the field            |
 * | `LocationError` INVALID_ARGUMENT      | 400 INVALID_ARGUMENT, message names the field        |
 * | `SdpError`                            | 400 INVALID_ARGUMENT, `offer.sdp: <line problem>`    |
 * | emergency calls disabled (config)     | 501 CALLTYPE_EMERGENCY_NOT_SUPPORTED                 |
 * | anything else                         | not mapped (a bug: the global filter makes it 500)   |
 */
import { ApiError, invalidArgument } from '../../common/errors/api-error';
import { SdpError } from '../../sip/sdp';
import { LocationError } from '../location/pidf-lo';

/** CAMARA call-handling 501 example, verbatim. */
export const emergencyNotSupported = (): ApiError => new ApiError(501, 'CALLTYPE_EMERGENCY_NOT_SUPPORTED', 'Server does not support call type EMERGENCY.');

export function locationErrorToApiError(err: LocationError): ApiError {
  return new ApiError(400, err.code, err.message);
}

/** `field`: where the SDP came from (`offer.sdp`, `answer.sdp`). */
export function sdpErrorToApiError(err: SdpError, field = 'offer.sdp'): ApiError {
  return invalidArgument(`${field}: ${err.message}`);
}

/** The ApiError for a client error thrown by the planners, or undefined (rethrow the original). */
export function toApiError(err: unknown, sdpField = 'offer.sdp'): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof LocationError) return locationErrorToApiError(err);
  if (err instanceof SdpError) return sdpErrorToApiError(err, sdpField);
  return undefined;
}

/** CAMARA error codes the gateway uses (CAMARA_common.yaml plus the WebRTC APIs' specific ones). */
export type ApiErrorCode =
  | 'INVALID_ARGUMENT'
  | 'OUT_OF_RANGE'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'INVALID_TOKEN_CONTEXT'
  | 'NOT_FOUND'
  | 'IDENTIFIER_NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'INCOMPATIBLE_STATE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'QUOTA_EXCEEDED'
  | 'INTERNAL'
  | 'NOT_IMPLEMENTED'
  | 'BAD_GATEWAY'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'CALLTYPE_EMERGENCY_NOT_SUPPORTED'
  | 'EMERGENCY_ADDRESS_MISSING'
  | 'INVALID_SINK'
  | 'INVALID_PROTOCOL'
  | 'INVALID_CREDENTIAL'
  | 'INVALID_TOKEN'
  | 'MULTIEVENT_SUBSCRIPTION_NOT_SUPPORTED'
  | 'MULTIEVENT_COMBINATION_NOT_SUPPORTED'
  | 'SERVICE_NOT_APPLICABLE';

/** The body every error response carries (CAMARA `ErrorInfo`). */
export interface ErrorInfo {
  status: number;
  code: ApiErrorCode;
  message: string;
}

/** An error a client will see, exactly as given. Throw it from services; the global filter renders it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): ErrorInfo {
    return { status: this.status, code: this.code, message: this.message };
  }
}

export const invalidArgument = (message: string): ApiError => new ApiError(400, 'INVALID_ARGUMENT', message);
export const outOfRange = (message: string): ApiError => new ApiError(400, 'OUT_OF_RANGE', message);
export const unauthenticated = (message = 'Request not authenticated due to missing, invalid, or expired credentials.'): ApiError => new ApiError(401, 'UNAUTHENTICATED', message);
export const permissionDenied = (message = 'Client does not have sufficient permissions to perform this action.'): ApiError => new ApiError(403, 'PERMISSION_DENIED', message);
export const invalidTokenContext = (field: string): ApiError => new ApiError(403, 'INVALID_TOKEN_CONTEXT', `${field} is not consistent with access token.`);
export const notFound = (message = 'The specified resource is not found.'): ApiError => new ApiError(404, 'NOT_FOUND', message);
export const alreadyExists = (message: string): ApiError => new ApiError(409, 'ALREADY_EXISTS', message);
export const incompatibleState = (message: string): ApiError => new ApiError(409, 'INCOMPATIBLE_STATE', message);
export const unavailable = (message: string): ApiError => new ApiError(503, 'UNAVAILABLE', message);
export const badGateway = (message: string): ApiError => new ApiError(502, 'BAD_GATEWAY', message);
export const internal = (): ApiError => new ApiError(500, 'INTERNAL', 'Unknown server error. Typically a server bug.');

/** 503 UNAVAILABLE with the `Retry-After` (seconds) the global filter sends with it (e.g. an instance draining). */
export class RetryLaterError extends ApiError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(503, 'UNAVAILABLE', message);
  }
}

/** 429 TOO_MANY_REQUESTS with the `Retry-After` (seconds) the global filter sends with it. */
export class TooManyRequestsError extends ApiError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(429, 'TOO_MANY_REQUESTS', message);
  }
}

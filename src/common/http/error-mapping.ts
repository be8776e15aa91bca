import { HttpException } from '@nestjs/common';
import { ApiError, ApiErrorCode, ErrorInfo } from '../errors/api-error';
import { StoreUnavailableError } from '../errors/store-unavailable.error';

const CODE_BY_STATUS: Record<number, ApiErrorCode> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  501: 'NOT_IMPLEMENTED',
  502: 'BAD_GATEWAY',
  503: 'UNAVAILABLE',
  504: 'TIMEOUT',
};

/** Fastify's own errors (body parsing, limits) by their code. */
const FASTIFY: Record<string, { status: number; code: ApiErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_ARGUMENT', message: 'Request body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_ARGUMENT', message: 'Request body is empty but Content-Type is application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_ARGUMENT', message: 'Content-Length does not match the body.' },
};

/** Turns anything thrown into the CAMARA ErrorInfo a client sees. `unexpected` means: log it with its stack. */
export function toErrorInfo(err: unknown): ErrorInfo & { unexpected: boolean } {
  if (err instanceof ApiError) return { ...err.toJSON(), unexpected: false };
  if (err instanceof StoreUnavailableError) {
    return { status: 503, code: 'UNAVAILABLE', message: 'The service is temporarily unavailable (state store unreachable). Retry later.', unexpected: false };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const body = err.getResponse();
    let message = err.message;
    if (typeof body === 'object' && body !== null && 'message' in body) {
      const m = body.message;
      message = Array.isArray(m) ? m.join('; ') : String(m);
    }
    return { status, code: CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT'), message, unexpected: status >= 500 };
  }
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
    if (typeof e.code === 'string') {
      const known = FASTIFY[e.code];
      if (known) return { ...known, unexpected: false };
    }
    if (err instanceof SyntaxError) return { status: 400, code: 'INVALID_ARGUMENT', message: 'Request body is not valid JSON.', unexpected: false };
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      const msg = typeof e.message === 'string' ? e.message : 'Bad request.';
      return { status: e.statusCode, code: CODE_BY_STATUS[e.statusCode] ?? 'INVALID_ARGUMENT', message: msg, unexpected: false };
    }
  }
  return { status: 500, code: 'INTERNAL', message: 'Unknown server error. Typically a server bug.', unexpected: true };
}

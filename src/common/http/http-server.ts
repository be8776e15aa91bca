import type { FastifyError, FastifyHttpOptions, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AppConfig } from '../../config/app-config';
import { ApiError, ErrorInfo, invalidArgument } from '../errors/api-error';
import type { RootLogger } from '../logging/root-logger';
import { sendError } from './camara-exception.filter';

/** Longest path parameter (an id) the router accepts; longer ones are 400 INVALID_ARGUMENT. */
export const MAX_ID_LENGTH = 100;

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (RFC 9110/6585 statuses), each in
 * CAMARA ErrorInfo shape. Codes: CAMARA_common has no code for 408 or 431; the nearest ones are used.
 */
export function clientErrorInfo(code: string | undefined): ErrorInfo {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'INVALID_ARGUMENT', message: 'Request header fields are too large.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return { status: 408, code: 'TIMEOUT', message: 'The request was not received in time.' };
    case undefined:
    default:
      return { status: 400, code: 'INVALID_ARGUMENT', message: 'Malformed HTTP request.' };
  }
}

/** The raw HTTP/1.1 response written on a socket whose request never reached Fastify. */
export function clientErrorResponse(info: ErrorInfo): string {
  const body = JSON.stringify(info);
  return `HTTP/1.1 ${info.status} ${STATUS_CODES[info.status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Router-level failures (`%zz` in the path, an id longer than MAX_ID_LENGTH) as CAMARA errors. */
export function frameworkError(err: FastifyError): ApiError {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return invalidArgument(`A path parameter is longer than ${MAX_ID_LENGTH} characters.`);
  if (err.code === 'FST_ERR_BAD_URL') return invalidArgument('The request path is not validly percent-encoded.');
  return invalidArgument('The request could not be routed.');
}

/**
 * Fastify options for slow and greedy clients: headers and whole-request deadlines (checked every
 * second rather than Node's 30 s), idle keep-alive, and every framework-level error in CAMARA shape.
 */
export function fastifyOptions(config: AppConfig, bodyLimit: number, logger: RootLogger): FastifyHttpOptions<Server> {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = config.http;
  return {
    bodyLimit,
    routerOptions: { maxParamLength: MAX_ID_LENGTH },
    return503OnClosing: true,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    connectionTimeout: Math.max(requestTimeoutMs, keepAliveTimeoutMs) + 1000,
    http: { headersTimeout: Math.min(headersTimeoutMs, requestTimeoutMs), requestTimeout: requestTimeoutMs, connectionsCheckingInterval: 1000 },
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => sendError(reply, req, frameworkError(err), logger),
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      logger.debug({ code: err.code }, 'malformed or incomplete HTTP request');
      if (socket.writable) socket.end(clientErrorResponse(clientErrorInfo(err.code)));
      socket.destroySoon();
    },
  };
}

/**
 * CAMARA `*_400.1_no_request`: a path whose id is empty (`…/sessions/`, `…/sessions//status`)
 * is 400 INVALID_ARGUMENT, not 404.
 */
const EMPTY_ID = /^\/(?:webrtc-registration|webrtc-call-handling|webrtc-events)\/v[^/]+\/(?:sessions|subscriptions)\/(?:\/[^?]*)?(?:\?.*)?$/;

export function emptyIdError(url: string): ApiError | undefined {
  return EMPTY_ID.test(url) ? invalidArgument('The resource id is missing from the request path.') : undefined;
}

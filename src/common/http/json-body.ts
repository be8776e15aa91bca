import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { ApiError, invalidArgument } from '../errors/api-error';

type WithBodyError = IncomingMessage & { bodyError?: ApiError };

/**
 * Deepest nesting of `{`/`[` in a JSON text, counted without parsing (strings skipped), stopping
 * as soon as `limit` is passed: a 10,000-level body costs one linear scan, not a stack overflow
 * in the validation pipe.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** What a body-parsing failure becomes, kept until the token and scopes have been checked. */
export function bodyErrorOf(raw: IncomingMessage): ApiError | undefined {
  return (raw as WithBodyError).bodyError;
}

function defer(req: FastifyRequest, err: ApiError): void {
  (req.raw as WithBodyError).bodyError = err;
}

/**
 * The only body parsers. An empty body is "no body", whatever its Content-Type (CAMARA's test
 * definitions send `Content-Type: application/json` on every request, DELETE included).
 * Parsing failures (not JSON, too deep, not an object, a non-JSON media type) do not answer
 * at once: they are kept on the request and thrown by `BodyErrorGuard`, after authentication and
 * scopes, so a client without a valid token learns nothing about bodies. Size limits (413) still
 * apply while the body is read.
 */
export function installJsonBodyParser(fastify: FastifyInstance, maxDepth: number): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'ignore');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (jsonDepthExceeds(text, maxDepth)) {
      defer(req, invalidArgument(`Request body is nested deeper than ${maxDepth} levels.`));
      return done(null, undefined);
    }
    void parseJson(req, text, (err: Error | null, value?: unknown) => {
      if (err) defer(req, invalidArgument('Request body is not valid JSON.'));
      else if (typeof value !== 'object' || value === null || Array.isArray(value)) defer(req, invalidArgument('Request body must be a JSON object.'));
      done(null, err ? undefined : value);
    });
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    const length = typeof body === 'string' ? body.length : body.byteLength;
    if (length > 0) defer(req, new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json.'));
    done(null, undefined);
  });
}

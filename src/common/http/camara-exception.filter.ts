import { ArgumentsHost, Catch, ExceptionFilter, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ROOT_LOGGER, RootLogger } from '../logging/root-logger';
import { correlatorOf } from './correlator';
import { toErrorInfo } from './error-mapping';
import { RetryLaterError, TooManyRequestsError } from '../errors/api-error';

/** The one place errors become responses: always `{status, code, message}` and `x-correlator`. */
@Catch()
export class CamaraExceptionFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly logger: RootLogger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    sendError(reply, req, err, this.logger);
  }
}

export function sendError(reply: FastifyReply, req: FastifyRequest, err: unknown, logger: RootLogger): void {
  const { unexpected, ...info } = toErrorInfo(err);
  const correlator = correlatorOf(req.raw);
  if (unexpected) {
    logger.error({ err, correlator, method: req.method, url: req.url }, 'unhandled error');
  } else if (info.status >= 500) {
    logger.warn({ correlator, status: info.status, code: info.code, reason: err instanceof Error ? err.message : String(err) }, info.message);
  }
  if (reply.sent) return;
  if (err instanceof TooManyRequestsError || err instanceof RetryLaterError) void reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfterS))));
  void reply.header('x-correlator', correlator).header('content-type', 'application/json').status(info.status).send(info);
}

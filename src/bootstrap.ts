import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppConfig } from './config/app-config';
import { AppModule } from './app.module';
import { ROOT_LOGGER, RootLogger } from './common/logging/root-logger';
import { correlatorOf, isCorrelatorInvalid } from './common/http/correlator';
import { sendError } from './common/http/camara-exception.filter';
import { camaraValidationPipe } from './common/http/validation.pipe';
import { ApiError } from './common/errors/api-error';
import { requestContext } from './common/logging/request-context';

/** Largest request body accepted (an SDP offer is ≤ 64 KiB; a PIDF-LO location a few KiB). */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Builds the application with every cross-cutting rule of the CAMARA contract applied: used by
 * `main.ts` and by the e2e tests, so both run the same thing.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, return503OnClosing: true });
  // bodyParser: false — Fastify's own JSON parser is the only one (no urlencoded, no text): anything else is 415.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(camaraValidationPipe());
  app.enableShutdownHooks();

  const logger = app.get<RootLogger>(ROOT_LOGGER);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (req, reply) => {
    const correlator = correlatorOf(req.raw);
    requestContext.enterWith({ correlator });
    void reply.header('x-correlator', correlator);
    if (isCorrelatorInvalid(req.raw)) {
      sendError(reply, req, new ApiError(400, 'INVALID_ARGUMENT', 'x-correlator does not match the pattern ^[a-zA-Z0-9-_:;./<>{}]{0,256}$.'), logger);
      return reply;
    }
    return undefined;
  });
  // Every body is JSON: anything else is 415 (Fastify would otherwise accept text/plain).
  fastify.removeContentTypeParser(['text/plain']);
  // Errors raised before the handler (body parsing, limits) and unknown routes reach the global
  // CamaraExceptionFilter through Nest's own Fastify error and not-found handlers.
  return app;
}

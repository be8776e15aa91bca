import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from './config/app-config';
import { AppModule } from './app.module';
import { createRootLogger } from './common/logging/logging.module';
import { emptyIdError, fastifyOptions } from './common/http/http-server';
import { installJsonBodyParser } from './common/http/json-body';
import { installRateLimits } from './common/http/rate-limits';
import { LIMIT_TELEMETRY, LimitTelemetry } from './common/limits/limit-telemetry';
import { RedisClient } from './store/redis/redis-client';
import { correlatorOf, isCorrelatorInvalid } from './common/http/correlator';
import { sendError } from './common/http/camara-exception.filter';
import { camaraValidationPipe } from './common/http/validation.pipe';
import { ApiError } from './common/errors/api-error';
import { NestLogger } from './common/logging/nest-logger';
import { installRequestLogging } from './common/logging/request-logger';

/** Largest request body accepted (an SDP offer is ≤ 64 KiB; a PIDF-LO location a few KiB). */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Builds the application with every cross-cutting rule of the CAMARA contract applied: used by
 * `main.ts` and by the e2e tests, so both run the same thing.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  // The logger exists before Nest does: Fastify's framework-level errors are logged through it.
  const logger = createRootLogger(config.logLevel);
  const adapter = new FastifyAdapter(fastifyOptions(config, BODY_LIMIT_BYTES, logger));
  // bodyParser: false — our JSON parser (json-body.ts) is the only one: anything else is 415.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logger), adapter, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(NestLogger));
  app.useGlobalPipes(camaraValidationPipe());
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  fastify.server.maxConnections = config.http.maxConnections;
  fastify.addHook('onRequest', async (req, reply) => {
    void reply.header('x-correlator', correlatorOf(req.raw));
    const refused = isCorrelatorInvalid(req.raw) ? new ApiError(400, 'INVALID_ARGUMENT', 'x-correlator does not match the pattern ^[a-zA-Z0-9-_:;./<>{}]{0,256}$.') : emptyIdError(req.url);
    if (refused) {
      sendError(reply, req, refused, logger);
      return reply;
    }
    return undefined;
  });
  installRequestLogging(fastify, logger);
  installJsonBodyParser(fastify, config.http.maxJsonDepth);
  const redis = app.get<RedisClient | null>(RedisClient, { strict: false });
  await installRateLimits(fastify, config, redis, app.get<LimitTelemetry>(LIMIT_TELEMETRY, { strict: false }), config.store.kind === 'redis' ? config.store.keyPrefix : '');
  // Errors raised before the handler (body parsing, limits) and unknown routes reach the global
  // CamaraExceptionFilter through Nest's own Fastify error and not-found handlers.
  return app;
}

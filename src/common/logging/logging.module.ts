import { DynamicModule, Global, Module } from '@nestjs/common';
import pino from 'pino';
import { AppConfig } from '../../config/app-config';
import { NestLogger } from './nest-logger';
import { keyRedactor } from './redact';
import { ROOT_LOGGER, RootLogger } from './root-logger';

/**
 * Log fields that may carry secrets, censored in every line whatever logged them, at every depth up to
 * REDACT_DEPTH (`req.headers.authorization`, `creds.password`, `sinkCredential` …). Matched by key
 * name in one walk of the line's object (redact.ts) rather than pino's wildcard paths.
 */
export const REDACTED_KEYS = ['authorization', 'cookie', 'set-cookie', 'password', 'accessToken', 'sinkCredential'];

/** Where a subscriber is: personal data, written only when the log level is `trace`. */
export const LOCATION_KEYS = ['locationDetails', 'pidfLo'];

export function createRootLogger(level: string, destination?: pino.DestinationStream): RootLogger {
  const censor = keyRedactor(level === 'trace' ? REDACTED_KEYS : REDACTED_KEYS.concat(LOCATION_KEYS));
  return pino(
    {
      level,
      base: { service: 'camara-webrtc-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: censor },
    },
    destination,
  );
}

/**
 * Structured JSON logs (pino). Nest's own messages go through the root logger (NestLogger). Every
 * line of a request carries its `correlator` (the x-correlator) because request code logs through
 * the request's child logger (request-logger.ts), passed down explicitly; work the network starts
 * uses child loggers with callId etc.
 */
@Global()
@Module({
  providers: [{ provide: NestLogger, inject: [ROOT_LOGGER], useFactory: (logger: RootLogger) => new NestLogger(logger) }],
  exports: [NestLogger],
})
export class LoggingModule {}

/**
 * Provides ROOT_LOGGER: the given one (bootstrap creates it before Nest, for Fastify's own errors)
 * or one made from AppConfig. Separate so LoggerModule's factory can inject it.
 */
@Global()
@Module({})
export class RootLoggerModule {
  static forRoot(logger?: RootLogger): DynamicModule {
    return {
      module: RootLoggerModule,
      providers: [logger ? { provide: ROOT_LOGGER, useValue: logger } : { provide: ROOT_LOGGER, inject: [AppConfig], useFactory: (c: AppConfig) => createRootLogger(c.logLevel) }],
      exports: [ROOT_LOGGER],
    };
  }
}

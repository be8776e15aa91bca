import { DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { IncomingMessage } from 'node:http';
import { AppConfig } from '../../config/app-config';
import { correlatorOf } from '../http/correlator';
import { ROOT_LOGGER, RootLogger } from './root-logger';
import { requestMixin } from './request-context';

/** Log fields that may carry secrets, censored in every line whatever logged them. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.password',
  '*.accessToken',
  '*.sinkCredential',
  'sinkCredential',
  'password',
  'accessToken',
];

/** Where a subscriber is: personal data, written only when the log level is `trace`. */
export const LOCATION_PATHS = ['locationDetails', '*.locationDetails', '*.*.locationDetails', 'pidfLo', '*.pidfLo'];

export function createRootLogger(level: string, destination?: pino.DestinationStream): RootLogger {
  return pino(
    {
      level,
      base: { service: 'camara-webrtc-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: level === 'trace' ? REDACTED_PATHS : REDACTED_PATHS.concat(LOCATION_PATHS), censor: '[redacted]' },
      // Every line written while serving a request carries its x-correlator, whoever logs it.
      mixin: requestMixin,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * Structured JSON logs (pino through nestjs-pino). Every line of a request carries its
 * `correlator` (the x-correlator); work the network starts uses child loggers with callId etc.
 */
@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [ROOT_LOGGER],
      useFactory: (logger: RootLogger) => ({
        pinoHttp: {
          logger,
          genReqId: (req: IncomingMessage) => correlatorOf(req),
          quietReqLogger: true,
          customLogLevel: (_req: IncomingMessage, res: { statusCode: number }, err?: Error) =>
            // 502-504 are the network or the store being away (logged where they happen): warn, not error.
            res.statusCode === 500 || (err && res.statusCode < 500) ? 'error' : res.statusCode >= 500 ? 'warn' : res.statusCode >= 400 ? 'info' : 'debug',
          autoLogging: { ignore: (req: IncomingMessage) => /^\/(health|metrics)/.test(req.url ?? '') },
          serializers: {
            req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
            res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
          },
        },
      }),
    }),
  ],
  providers: [],
  exports: [LoggerModule],
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

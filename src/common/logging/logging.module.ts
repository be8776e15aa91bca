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

/** Bytes of log lines gathered before one write to stdout. */
export const LOG_BUFFER_BYTES = 4096;
/** Longest a logged line waits in the buffer when fewer than LOG_BUFFER_BYTES arrive. */
export const LOG_FLUSH_INTERVAL_MS = 200;

/**
 * stdout through sonic-boom, asynchronous and buffered: lines are gathered up to LOG_BUFFER_BYTES
 * (or LOG_FLUSH_INTERVAL_MS) and written in one `write`, instead of one synchronous write per line.
 * No line is dropped (no maxLength); what is still buffered is written synchronously by
 * `flushLogsSync` on exit (normal exit, `process.exit`, an uncaught exception) — see main.ts.
 */
let stdout: pino.DestinationStream | undefined;
export function bufferedStdout(): pino.DestinationStream {
  // one buffer for the process: every logger's lines stay in the order they were logged
  return (stdout ??= pino.destination({ dest: process.stdout.fd, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_INTERVAL_MS }));
}

/** Writes synchronously whatever the logger's destination still buffers (no-op for unbuffered streams). */
export function flushLogsSync(logger: RootLogger): void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { flushSync?: () => void; destroyed?: boolean } | undefined;
  if (!stream || stream.destroyed || typeof stream.flushSync !== 'function') return;
  try {
    stream.flushSync();
  } catch {
    // not open yet or stdout gone (EPIPE): nothing more can be written
  }
}

export function createRootLogger(level: string, destination: pino.DestinationStream = bufferedStdout()): RootLogger {
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

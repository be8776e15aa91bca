/**
 * REST hot-path micro-benchmark (in process, no lab): µs per request for the `POST /sessions`
 * validation and for one Nest route on Fastify, the way requests were served before (class-validator
 * pipe, AsyncLocalStorage.enterWith per request, pino mixin and wildcard redact paths, a line per
 * request) and the way they are now (schemas compiled once, the request's logger passed down,
 * key-name redaction, access line at debug).
 *
 *   node --require ts-node/register/transpile-only bench/rest-micro.ts [--n 20000]
 *
 * Numbers are for comparison within one run on one machine only.
 */
import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { Body, Controller, Module, Post, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { CamaraValidationPipe, toValidationError } from '../src/common/http/validation.pipe';
import { createRootLogger } from '../src/common/logging/logging.module';
import { installRequestLogging, RequestLog } from '../src/common/logging/request-logger';
import type { RootLogger } from '../src/common/logging/root-logger';
import { MediaSessionCreate } from '../src/sessions/dto/media-session.dto';

const N = Number(process.argv[process.argv.indexOf('--n') + 1] || 20_000);
const SDP =
  'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n';
const BODY = { originatorAddress: 'tel:+447700900001', originatorName: 'Alice', receiverAddress: 'sip:bob@example.com', receiverName: 'Bob', offer: { sdp: SDP }, clientCorrelator: 'c-1' };

const sink = (): Writable =>
  new Writable({
    write(_chunk: Buffer, _enc, cb) {
      cb();
    },
  });

async function perOp(label: string, n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(2000, n); i++) await op(i); // warm-up (JIT, caches)
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  const us = ((performance.now() - t0) * 1000) / n;
  console.log(`${label.padEnd(66)} ${us.toFixed(1).padStart(8)} µs`);
  return us;
}

async function validation(): Promise<void> {
  const classic = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: false, transform: true, validationError: { target: false, value: false }, exceptionFactory: toValidationError });
  const compiled = new CamaraValidationPipe();
  const meta = { type: 'body' as const, metatype: MediaSessionCreate, data: undefined };
  const bad = { ...BODY, receiverAddress: 'mailto:bob' };
  console.log('\nPOST /sessions body validation');
  const before = await perOp('class-validator pipe, valid body', N, () => classic.transform(structuredClone(BODY), meta));
  const after = await perOp('compiled schema pipe, valid body', N, () => compiled.transform(structuredClone(BODY), meta));
  await perOp('class-validator pipe, invalid body', N, () => classic.transform(structuredClone(bad), meta).catch(() => undefined));
  await perOp('compiled schema pipe, invalid body (falls back for the message)', N, () => compiled.transform(structuredClone(bad), meta).catch(() => undefined));
  await perOp('structuredClone of the body alone (in both figures above)', N, () => Promise.resolve(structuredClone(BODY)));
  console.log(`valid body: ${(before / after).toFixed(1)}× faster`);
}

/** The previous logger set-up: wildcard redact paths and a mixin reading the request's async context. */
function previousLogger(ctx: AsyncLocalStorage<{ correlator: string }>): RootLogger {
  return pino(
    {
      level: 'info',
      base: { service: 'camara-webrtc-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
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
          'locationDetails',
          '*.locationDetails',
          '*.*.locationDetails',
          'pidfLo',
          '*.pidfLo',
        ],
        censor: '[redacted]',
      },
      mixin: () => {
        const c = ctx.getStore();
        return c ? { correlator: c.correlator } : {};
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    sink(),
  );
}

async function logLines(): Promise<void> {
  const ctx = new AsyncLocalStorage<{ correlator: string }>();
  const before = previousLogger(ctx);
  const after = createRootLogger('info', sink()).child({ correlator: 'corr-1' });
  const fields = { mediaSessionId: 'm1', callId: 'c1', sipCode: 180, from: 'Initial', to: 'Ringing' };
  console.log('\nOne transition log line');
  ctx.enterWith({ correlator: 'corr-1' });
  await perOp('wildcard redact + ALS mixin', N, () => Promise.resolve(before.info(fields, 'session m1 Initial → Ringing (180)')));
  ctx.disable();
  await perOp('key-name redaction, request child logger', N, () => Promise.resolve(after.info(fields, 'session m1 Initial → Ringing (180)')));
}

async function route(variant: 'before' | 'after'): Promise<number> {
  const logger = createRootLogger('info', sink());
  const ctx = new AsyncLocalStorage<{ correlator: string }>();
  const old = previousLogger(ctx);

  @Controller()
  class Sessions {
    @Post('sessions')
    create(@Body() body: MediaSessionCreate, @RequestLog() log: RootLogger): { ok: boolean } {
      (variant === 'after' ? log : old).debug({ to: body.receiverAddress }, 'INVITE sent');
      return { ok: true };
    }
  }
  @Module({ controllers: [Sessions] })
  class BenchModule {}

  const app = await NestFactory.create<NestFastifyApplication>(BenchModule, new FastifyAdapter(), { logger: false });
  const fastify = app.getHttpAdapter().getInstance();
  installRequestLogging(fastify, logger);
  if (variant === 'before') {
    app.useGlobalPipes(new ValidationPipe({ whitelist: true, transform: true, validationError: { target: false, value: false }, exceptionFactory: toValidationError }));
    fastify.addHook('onRequest', async (req) => {
      ctx.enterWith({ correlator: String(req.headers['x-correlator'] ?? 'none') });
    });
    // the per-request info line pino-http wrote (4xx) or debug (2xx); written here for every request
    fastify.addHook('onResponse', async (req, reply) => {
      old.info({ req: { method: req.method, url: req.url }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
    });
  } else {
    app.useGlobalPipes(new CamaraValidationPipe());
  }
  await app.init();
  await fastify.ready();
  const payload = JSON.stringify(BODY);
  const headers = { 'content-type': 'application/json', 'x-correlator': 'corr-1' };
  const us = await perOp(`${variant}: POST /sessions through Nest on Fastify (inject)`, Math.ceil(N / 4), async () => {
    const res = await fastify.inject({ method: 'POST', url: '/sessions', headers, payload });
    if (res.statusCode !== 201) throw new Error(`unexpected ${res.statusCode}: ${res.body}`);
  });
  await app.close();
  ctx.disable(); // promise hooks off again, so the next variant does not pay for this one's context
  return us;
}

async function main(): Promise<void> {
  console.log(`rest-micro: ${N} iterations per figure, Node ${process.version}`);
  await validation();
  await logLines();
  console.log('\nOne route (validation, logging and the async context; no auth, store or SIP)');
  // each variant in its own order twice, so that warm-up and drift do not favour one
  const before = [await route('before')];
  const after = [await route('after')];
  after.push(await route('after'));
  before.push(await route('before'));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`route: ${mean(before).toFixed(1)} µs → ${mean(after).toFixed(1)} µs per request`);
}

void main();

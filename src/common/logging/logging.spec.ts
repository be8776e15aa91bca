import { Writable } from 'node:stream';
import { Secret } from '../../config/secret';
import Fastify, { FastifyRequest } from 'fastify';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createRootLogger, flushLogsSync, LOG_BUFFER_BYTES } from './logging.module';
import { NestLogger } from './nest-logger';
import { installRequestLogging, requestLoggerOf, SLOW_REQUEST_MS } from './request-logger';

function capture(): { lines: () => string; stream: Writable } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString('utf8');
      cb();
    },
  });
  return { lines: () => out, stream };
}

describe('root logger', () => {
  it('writes JSON lines with the level as a word', () => {
    const c = capture();
    createRootLogger('info', c.stream).info({ mediaSessionId: 'm1', callId: 'c1' }, 'session m1 Ringing → Connected (200)');
    const line = JSON.parse(c.lines()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', mediaSessionId: 'm1', callId: 'c1', msg: 'session m1 Ringing → Connected (200)' });
  });

  it('never writes bearer tokens, passwords, access tokens or sink credentials', () => {
    const c = capture();
    const log = createRootLogger('debug', c.stream);
    log.info({ req: { headers: { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.secret.sig' } } }, 'request');
    log.info({ creds: { password: 'hunter2' }, sinkCredential: { credentialType: 'ACCESSTOKEN', accessToken: 'tok-123' } }, 'x');
    log.info({ password: new Secret('hunter3') }, 'y');
    const out = c.lines();
    for (const secret of ['eyJhbGciOiJFUzI1NiJ9', 'hunter2', 'tok-123', 'hunter3']) expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
});

describe('locations in logs', () => {
  const fields = { mediaSessionId: 'm1', locationDetails: { latitude: 40.7128, longitude: -74.006 } };
  it('are redacted below trace', () => {
    const c = capture();
    createRootLogger('debug', c.stream).debug({ session: fields, ...fields }, 'update');
    expect(c.lines()).not.toContain('40.7128');
    expect(c.lines()).toContain('m1');
  });
  it('are written at trace', () => {
    const c = capture();
    createRootLogger('trace', c.stream).trace(fields, 'update');
    expect(c.lines()).toContain('40.7128');
  });
});

describe('redaction', () => {
  it('censors secrets by key name up to three levels deep, without touching the objects logged', () => {
    const c = capture();
    const headers = { authorization: 'Bearer abc.def', 'user-agent': 'ua' };
    const fields = { req: { method: 'GET', headers }, top: { mid: { password: 'p1' } }, deeper: { a: { b: { password: 'too-deep-is-kept' } } } };
    createRootLogger('info', c.stream).info(fields, 'x');
    const line = JSON.parse(c.lines()) as { req: { headers: Record<string, string> }; top: { mid: { password: string } } };
    expect(line.req.headers).toEqual({ authorization: '[redacted]', 'user-agent': 'ua' });
    expect(line.top.mid.password).toBe('[redacted]');
    expect(c.lines()).not.toContain('abc.def');
    expect(headers.authorization).toBe('Bearer abc.def');
    expect(c.lines()).toContain('too-deep-is-kept');
  });
});

describe('request logging', () => {
  async function serve(level: string, handler: (req: FastifyRequest) => unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
    const c = capture();
    const app = Fastify();
    installRequestLogging(app, createRootLogger(level, c.stream));
    app.get('/x', (req) => handler(req));
    app.get('/health/live', () => ({ ok: true }));
    await app.inject({ method: 'GET', url: '/x', headers });
    await app.inject({ method: 'GET', url: '/health/live' });
    await app.close();
    return c
      .lines()
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  it('gives every line the request code writes its correlator, through the logger passed down', async () => {
    const lines = await serve(
      'info',
      (req) => {
        requestLoggerOf(req).info({ mediaSessionId: 'm1' }, 'inside');
        return {};
      },
      { 'x-correlator': 'corr-42' },
    );
    expect(lines).toEqual([expect.objectContaining({ correlator: 'corr-42', mediaSessionId: 'm1', msg: 'inside' })]);
  });

  it('writes the access line at debug, not at info, and never for probes', async () => {
    const quiet = await serve('info', () => ({}));
    const verbose = await serve('debug', () => ({}), { 'x-correlator': 'corr-7' });
    expect(quiet).toEqual([]);
    expect(verbose).toEqual([expect.objectContaining({ level: 'debug', correlator: 'corr-7', method: 'GET', url: '/x', statusCode: 200, msg: 'request completed' })]);
  });

  it('writes a 5xx at warn or error, and a slow request at info', async () => {
    const failed = await serve('info', (_req) => Promise.reject(Object.assign(new Error('x'), { statusCode: 503 })));
    expect(failed).toEqual([expect.objectContaining({ level: 'warn', statusCode: 503 })]);
    const slow = await serve('info', () => new Promise((resolve) => setTimeout(() => resolve({}), SLOW_REQUEST_MS + 50)));
    expect(slow).toEqual([expect.objectContaining({ level: 'info', statusCode: 200, msg: 'slow request' })]);
  });
});

describe('Nest messages', () => {
  it('go through the root logger with their context, errors with their stack, below the level not at all', () => {
    const c = capture();
    const nest = new NestLogger(createRootLogger('info', c.stream));
    nest.log('Mapped {/x, GET} route', 'RouterExplorer');
    nest.error('boom', 'Error: boom\n    at x', 'ExceptionHandler');
    nest.debug('hidden', 'InstanceLoader');
    const lines = c
      .lines()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', context: 'RouterExplorer', msg: 'Mapped {/x, GET} route' }),
      expect.objectContaining({ level: 'error', context: 'ExceptionHandler', msg: 'boom', stack: 'Error: boom\n    at x' }),
    ]);
  });
});

describe('buffered log destination', () => {
  it('keeps short lines in the buffer until flushLogsSync writes them', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'log-')), 'out.log');
    const dest = pino.destination({ dest: file, sync: true, minLength: LOG_BUFFER_BYTES });
    const log = createRootLogger('info', dest);
    log.info({ n: 1 }, 'first');
    log.info({ n: 2 }, 'second');
    expect(readFileSync(file, 'utf8')).toBe('');
    flushLogsSync(log);
    expect(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
    ).toEqual(['first', 'second']);
  });

  it('does nothing for a stream that has no buffer', () => {
    const c = capture();
    const log = createRootLogger('info', c.stream);
    log.info('line');
    expect(() => flushLogsSync(log)).not.toThrow();
    expect(c.lines()).toContain('"msg":"line"');
  });
});

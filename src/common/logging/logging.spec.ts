import { Writable } from 'node:stream';
import { Secret } from '../../config/secret';
import { createRootLogger } from './logging.module';

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

describe('request context', () => {
  it('adds the request correlator to every line written while serving it, and nothing outside', () => {
    const { requestContext } = jest.requireActual<typeof import('./request-context')>('./request-context');
    const c = capture();
    const log = createRootLogger('info', c.stream);
    requestContext.run({ correlator: 'corr-42' }, () => log.info({ mediaSessionId: 'm1' }, 'inside'));
    log.info('outside');
    const [inside, outside] = c
      .lines()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).toMatchObject({ correlator: 'corr-42', mediaSessionId: 'm1' });
    expect(outside?.correlator).toBeUndefined();
  });
});

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

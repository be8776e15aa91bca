import { Writable } from 'node:stream';
import pino from 'pino';
import { flush, principal, setup } from './__testing__/sessions-harness';

/** The request's logger is passed down explicitly: the lines an app request causes carry its correlator. */
function requestLogger(correlator: string): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString('utf8');
      cb();
    },
  });
  const log = pino({ level: 'debug' }, stream).child({ correlator });
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines };
}

describe('request logging in the session use cases', () => {
  it('writes the INVITE line of a POST and the transition line of a DELETE with the request correlator; a SIP-started transition is not the request’s', async () => {
    const { sessions, reg, body, sip, lastInvite } = await setup();
    const post = requestLogger('corr-post');
    const { mediaSessionId } = await sessions.create(principal(), reg.registrationId, body(), post.log);
    expect(post.lines()).toEqual([expect.objectContaining({ correlator: 'corr-post', mediaSessionId, msg: 'INVITE sent' })]);

    sip.signal(lastInvite().callId, { kind: 'provisional', code: 180, reason: 'Ringing' });
    await flush();
    expect((await sessions.get(principal(), mediaSessionId)).status).toBe('Ringing');
    expect(post.lines().some((l) => String(l.msg).includes('→ Ringing'))).toBe(false);

    const del = requestLogger('corr-delete');
    await sessions.remove(principal(), mediaSessionId, false, del.log);
    expect(del.lines()).toContainEqual(expect.objectContaining({ level: 30, correlator: 'corr-delete', mediaSessionId, from: 'Ringing', to: 'SessionCancelled' }));
  });
});

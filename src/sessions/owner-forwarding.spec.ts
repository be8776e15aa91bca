import { Writable } from 'node:stream';
import pino from 'pino';
import { ApiError } from '../common/errors/api-error';
import type { RootLogger } from '../common/logging/root-logger';
import { Cluster, ForwardedRequest, ForwardOutcome } from '../cluster/cluster';
import { MediaSession } from '../store/session-store';
import { OwnerForwarding, refuseWhileDraining } from './owner-forwarding';

class FakeCluster extends Cluster {
  readonly instanceId = 'me';
  readonly sent: Array<{ owner: string; req: ForwardedRequest }> = [];
  constructor(private readonly outcome: ForwardOutcome) {
    super();
  }
  forward(owner: string, req: ForwardedRequest): Promise<ForwardOutcome> {
    this.sent.push({ owner, req });
    return Promise.resolve(this.outcome);
  }
  activeSessionIds(): Promise<string[]> {
    return Promise.resolve([]);
  }
  /** Runs what serve() registered, as the owner would on a forwarded request. */
  handle(req: ForwardedRequest) {
    return this.forwardHandler?.(req);
  }
}

const session = (over: Partial<MediaSession> = {}): MediaSession =>
  ({ mediaSessionId: 's1', phoneNumber: '+15550001', status: 'Ringing', direction: 'incoming', owner: 'other', ...over }) as MediaSession;

describe('OwnerForwarding', () => {
  it('forwards the validated request to the owner and returns its answer', async () => {
    const cluster = new FakeCluster({ kind: 'answered', reply: { ok: true, value: { status: 'Connected' } } });
    const body = { status: 'Connected', answer: { sdp: 'v=0' } };
    await expect(new OwnerForwarding(cluster).forward(session(), 'update-status', body)).resolves.toEqual({ value: { status: 'Connected' } });
    expect(cluster.sent).toEqual([{ owner: 'other', req: { op: 'update-status', mediaSessionId: 's1', phoneNumber: '+15550001', body } }]);
  });

  it("throws the owner's CAMARA error as is", async () => {
    const cluster = new FakeCluster({ kind: 'answered', reply: { ok: false, error: { status: 409, code: 'INCOMPATIBLE_STATE', message: 'nope' } } });
    const err = await new OwnerForwarding(cluster).forward(session(), 'remove').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).toJSON()).toEqual({ status: 409, code: 'INCOMPATIBLE_STATE', message: 'nope' });
  });

  it('answers 504 TIMEOUT when the owner does not answer in time', async () => {
    const err = await new OwnerForwarding(new FakeCluster({ kind: 'timeout' })).forward(session(), 'remove').catch((e: unknown) => e);
    expect((err as ApiError).toJSON()).toMatchObject({ status: 504, code: 'TIMEOUT' });
  });

  it('handles the request here when nobody listens for the owner any more (it is gone)', async () => {
    await expect(new OwnerForwarding(new FakeCluster({ kind: 'no-listener' })).forward(session(), 'remove')).resolves.toBeUndefined();
  });

  it.each<[string, Partial<MediaSession>]>([
    ['owned by this instance', { owner: 'me' }],
    ['without an owner (written before clustering)', { owner: undefined }],
    ['ended', { status: 'Terminated' }],
  ])('does not forward a session %s', async (_what, over) => {
    const cluster = new FakeCluster({ kind: 'timeout' });
    await expect(new OwnerForwarding(cluster).forward(session(over), 'remove')).resolves.toBeUndefined();
    expect(cluster.sent).toEqual([]);
  });

  it("serves forwarded requests with the token's phone number as principal", async () => {
    const cluster = new FakeCluster({ kind: 'no-listener' });
    const seen: unknown[] = [];
    new OwnerForwarding(cluster).serve({
      'update-status': async (p, id, body) => {
        seen.push([p.phoneNumber, id, body]);
        return { status: 'Ringing' };
      },
      remove: async () => undefined,
    });
    await expect(cluster.handle({ op: 'update-status', mediaSessionId: 's1', phoneNumber: '+15550001', body: { status: 'Ringing' } })).resolves.toEqual({ ok: true, value: { status: 'Ringing' } });
    await expect(cluster.handle({ op: 'remove', mediaSessionId: 's1', phoneNumber: '+15550001' })).resolves.toEqual({ ok: true });
    expect(seen).toEqual([['+15550001', 's1', { status: 'Ringing' }]]);
  });

  /** A logger whose lines are kept as parsed JSON. */
  const recordingLogger = (): { logger: RootLogger; lines: Array<Record<string, unknown>> } => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { logger: pino({ level: 'info' }, sink), lines };
  };

  it("sends the request's x-correlator along, and the owner's lines about it carry it", async () => {
    const forwarder = new FakeCluster({ kind: 'answered', reply: { ok: true } });
    const requestLog = pino({ level: 'silent' }).child({ correlator: 'b4333c46-49c0-4f62-80d7-f0ef930f1c46' });
    await new OwnerForwarding(forwarder).forward(session(), 'remove', undefined, requestLog);
    const sent = forwarder.sent[0]?.req;
    expect(sent).toEqual({ op: 'remove', mediaSessionId: 's1', phoneNumber: '+15550001', correlator: 'b4333c46-49c0-4f62-80d7-f0ef930f1c46' });

    const owner = new FakeCluster({ kind: 'no-listener' });
    const { logger, lines } = recordingLogger();
    new OwnerForwarding(owner, logger).serve({
      'update-status': async () => undefined,
      remove: async (_p, id, _body, log) => {
        log?.info({ mediaSessionId: id }, 'BYE sent');
        return undefined;
      },
    });
    await owner.handle(sent as ForwardedRequest);
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([expect.objectContaining({ correlator: 'b4333c46-49c0-4f62-80d7-f0ef930f1c46', forwarded: true, mediaSessionId: 's1', msg: 'BYE sent' })]);
  });

  it.each([
    ['absent', undefined],
    ['with CR/LF', 'abc\r\nforged: line'],
    ['longer than 256 characters', 'a'.repeat(257)],
  ])('serves a forwarded request whose correlator is %s without a correlated logger', async (_what, correlator) => {
    const owner = new FakeCluster({ kind: 'no-listener' });
    const { logger } = recordingLogger();
    const logs: Array<RootLogger | undefined> = [];
    new OwnerForwarding(owner, logger).serve({
      'update-status': async () => undefined,
      remove: async (_p, _id, _body, log) => {
        logs.push(log);
        return undefined;
      },
    });
    await expect(owner.handle({ op: 'remove', mediaSessionId: 's1', phoneNumber: '+15550001', ...(correlator !== undefined && { correlator }) })).resolves.toEqual({ ok: true });
    expect(logs).toEqual([undefined]);
  });

  it('a draining instance refuses new calls with 503 and Retry-After', () => {
    const cluster = new FakeCluster({ kind: 'no-listener' });
    expect(() => refuseWhileDraining(cluster)).not.toThrow();
    cluster.drain();
    expect(cluster.draining).toBe(true);
    const err = (() => {
      try {
        refuseWhileDraining(cluster);
      } catch (e) {
        return e as ApiError & { retryAfterS: number };
      }
      return undefined;
    })();
    expect(err?.toJSON()).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(err?.retryAfterS).toBe(5);
  });
});

import { ApiError } from '../common/errors/api-error';
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

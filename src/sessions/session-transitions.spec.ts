import pino from 'pino';
import { loadConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { StagedEvent } from '../events/event-publisher';
import type { FanOutRequest, FanOutResult } from '../store/event-queue';
import { MemorySessionStore } from '../store/memory/memory-session.store';
import type { MediaSession } from '../store/session-store';
import { aSession } from '../store/session-store.contract';
import { RecordingEventPublisher } from '../../test/support/recording-event-publisher';
import { SessionTransitions } from './session-transitions';

/** A store that writes the session and answers the fan-out as `fanOut` says (the Redis store does both in one script). */
class FanningStore extends MemorySessionStore {
  readonly requests: FanOutRequest[] = [];
  fanOut: FanOutResult = { kind: 'enqueued', events: [], claimed: [] };
  override async updateAndFanOut(next: MediaSession, expectedVersion: number, ttlMs: number, event: FanOutRequest): Promise<{ session: MediaSession; fanOut?: FanOutResult } | undefined> {
    this.requests.push(event);
    const session = await this.update(next, expectedVersion, ttlMs);
    return session && { session, fanOut: this.fanOut };
  }
}

/** A publisher that stages events (the queueing one does) and records what was settled and what was published. */
class StagingPublisher extends RecordingEventPublisher {
  readonly settled: FanOutResult[] = [];
  override stage(audience: { phoneNumber: string; deviceId: string }, type: FanOutRequest['type'], data: Record<string, unknown>): StagedEvent {
    return {
      request: { ...audience, type, data, time: new Date(0).toISOString(), ids: ['e1'] },
      settle: (r) => {
        this.settled.push(r);
        return r.events.length;
      },
    };
  }
}

const RINGING = { kind: 'provisional', code: 180, reason: 'Ringing', hasSdp: false } as const;

describe('SessionTransitions: a reported transition and its event in one store write', () => {
  const config = loadConfig({});
  const logger = pino({ level: 'silent' });
  const make = () => {
    const store = new FanningStore();
    const events = new StagingPublisher();
    return { store, events, transitions: new SessionTransitions(config, store, events, Clock.system, logger) };
  };

  it('hands the event to the store with the write and settles it; nothing is published apart', async () => {
    const { store, events, transitions } = make();
    const s = aSession(Date.now(), { deviceId: 'dev-1' });
    await transitions.create(s);
    const { session } = await transitions.handle(s.mediaSessionId, RINGING);
    expect(session?.status).toBe('Ringing');
    expect(store.requests.map((r) => [r.phoneNumber, r.deviceId, r.type, r.data.status, r.data.sequenceNumber])).toEqual([
      [s.phoneNumber, 'dev-1', 'org.camaraproject.webrtc-events.v0.session-status', 'Ringing', 1],
    ]);
    expect(events.settled).toEqual([{ kind: 'enqueued', events: [], claimed: [] }]);
    expect(events.published).toEqual([]);
  });

  it('publishes after the write when the store wrote the session without the event (more subscriptions than ids)', async () => {
    const { store, events, transitions } = make();
    store.fanOut = { kind: 'need-ids', needed: 6 };
    const s = aSession(Date.now(), { deviceId: 'dev-1' });
    await transitions.create(s);
    await transitions.handle(s.mediaSessionId, RINGING);
    expect(store.requests).toHaveLength(1);
    expect(events.settled).toEqual([]);
    expect(events.statuses()).toEqual(['Ringing']);
    expect((await store.get(s.mediaSessionId))?.status).toBe('Ringing');
  });

  it('publishes after the write with a store that cannot fan out (memory)', async () => {
    const store = new MemorySessionStore();
    const events = new StagingPublisher();
    const transitions = new SessionTransitions(config, store, events, Clock.system, logger);
    const s = aSession(Date.now(), { deviceId: 'dev-1' });
    await transitions.create(s);
    await transitions.handle(s.mediaSessionId, RINGING);
    expect(events.settled).toEqual([]);
    expect(events.statuses()).toEqual(['Ringing']);
  });

  it('stages nothing for a session without a device (nobody to report to), and still writes it', async () => {
    const { store, events, transitions } = make();
    const s = aSession(Date.now());
    await transitions.create(s);
    await transitions.handle(s.mediaSessionId, RINGING);
    expect(store.requests).toEqual([]);
    expect(events.published).toEqual([]);
    expect((await store.get(s.mediaSessionId))?.status).toBe('Ringing');
  });
});

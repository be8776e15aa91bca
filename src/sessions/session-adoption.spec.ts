import pino from 'pino';
import { Clock } from '../common/clock';
import { Cluster, ForwardOutcome } from '../cluster/cluster';
import { loadConfig } from '../config/app-config';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { MemoryRegistrationStore } from '../store/memory/memory-registration.store';
import { MemorySessionStore } from '../store/memory/memory-session.store';
import { MediaSession } from '../store/session-store';
import { RegistrationsService } from '../registrations/registrations.service';
import { FakeSipGateway } from '../../test/support/fake-sip-gateway';
import { RecordingEventPublisher } from '../../test/support/recording-event-publisher';
import { incomingCall } from './__testing__/sessions-harness';
import { IncomingCalls } from './incoming-calls';
import { SessionAdoption } from './session-adoption';
import { SessionQuota } from './session-quota';
import { SessionUpdates } from './session-updates';
import { ACTIVE_SESSION_TTL_MS, SessionTransitions } from './session-transitions';

class StoreCluster extends Cluster {
  constructor(
    readonly instanceId: string,
    private readonly ids: () => string[],
  ) {
    super();
  }
  forward(): Promise<ForwardOutcome> {
    return Promise.resolve({ kind: 'no-listener' });
  }
  activeSessionIds(): Promise<string[]> {
    return Promise.resolve(this.ids());
  }
}

const base = (id: string, over: Partial<MediaSession>): MediaSession => ({
  mediaSessionId: id,
  direction: 'outgoing',
  phoneNumber: '+17085852753',
  deviceId: 'd1',
  originatorAddress: 'tel:+17085852753',
  receiverAddress: 'tel:+15550009999',
  callType: 'REGULAR',
  status: 'Ringing',
  offer: 'v=0',
  dialog: { ...incomingCall('r1').dialog, role: 'uac', state: 'early', invite: { requestUri: 'sip:b@x', branch: 'z9hG4bK1', cseq: 1, via: 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1' } },
  owner: 'dead',
  sequenceNumber: 1,
  createdAt: 0,
  updatedAt: 0,
  version: 0,
  ...over,
});

/** Two survivors on one store, each with its own transitions, SIP port and events (as two processes). */
function survivors(store: MemorySessionStore, ids: string[]) {
  const config = loadConfig({});
  const logger = pino({ level: 'silent' });
  return ['s1', 's2'].map((name) => {
    const sip = new FakeSipGateway();
    const events = new RecordingEventPublisher();
    const cluster = new StoreCluster(name, () => ids);
    const transitions = new SessionTransitions(config, store, events, Clock.system, logger, undefined, cluster);
    const creds = SipCredentialsProvider.of(new Map());
    const registrations = new RegistrationsService(config, new MemoryRegistrationStore(), sip, creds, events, Clock.system, logger);
    const incoming = new IncomingCalls(config, transitions, sip, registrations, events, Clock.system, logger, new SessionQuota(config), cluster);
    const updates = new SessionUpdates(config, transitions, incoming, sip, creds, Clock.system);
    const adoption = new SessionAdoption(cluster, transitions, incoming, sip, creds, logger, updates, events);
    return { name, sip, events, adoption };
  });
}

async function eventually(ok: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SessionAdoption', () => {
  it('two survivors adopting the same lost instance take each session once', async () => {
    const store = new MemorySessionStore();
    await store.create(base('setup', { status: 'Ringing' }), ACTIVE_SESSION_TTL_MS);
    await store.create(base('up', { status: 'Connected', dialog: { ...base('x', {}).dialog!, state: 'confirmed', invite: undefined } }), ACTIVE_SESSION_TTL_MS);
    await store.create(base('incoming', { direction: 'incoming', status: 'Initial', dialog: incomingCall('r1').dialog }), ACTIVE_SESSION_TTL_MS);
    await store.create(base('other', { owner: 'alive' }), ACTIVE_SESSION_TTL_MS);
    const [a, b] = survivors(store, ['setup', 'up', 'incoming', 'other']);
    await Promise.all([a!.adoption.adopt('dead'), b!.adoption.adopt('dead')]);

    const setup = await store.get('setup');
    expect(setup).toMatchObject({ status: 'Failed', sipReason: 'gateway instance dead was lost during call setup' });
    expect(['s1', 's2']).toContain(setup?.owner);
    const up = await store.get('up');
    expect(up?.status).toBe('Connected');
    expect(['s1', 's2']).toContain(up?.owner);
    expect((await store.get('incoming'))?.status).toBe('Failed');
    expect(await store.get('other')).toMatchObject({ status: 'Ringing', owner: 'alive' });

    // one Failed event per session in setup, one CANCEL for the outgoing one; nothing for the established call
    const statuses = [...a!.events.published, ...b!.events.published].map((p) => `${String(p.data.mediaSessionId)}:${String(p.data.status)}`);
    expect(statuses.sort()).toEqual(['incoming:Failed', 'setup:Failed']);
    const hangUps = [...a!.sip.calls, ...b!.sip.calls].filter((c) => c.op === 'hangUp');
    expect(hangUps).toHaveLength(1);
    // the incoming INVITE's transaction died with its instance: answered 480 from the stored request
    const calls = [...a!.sip.calls, ...b!.sip.calls];
    expect(calls.filter((c) => c.op === 'reject')).toEqual([]);
    expect(calls.filter((c) => c.op === 'rejectStored').map((c) => c.op === 'rejectStored' && [c.dialog.callId, c.cause])).toEqual([[incomingCall('r1').dialog.callId, 'unavailable']]);
    // the established call is moved here on the network: takeOver, then a target refresh with the moved dialog
    await eventually(() => calls.concat(a!.sip.calls, b!.sip.calls).some((c) => c.op === 'refreshSession'));
    const refresh = [...a!.sip.calls, ...b!.sip.calls].find((c) => c.op === 'refreshSession');
    expect(refresh?.op === 'refreshSession' && refresh.dialog.localContact).toMatch(/:5071/);
    expect([...a!.sip.calls, ...b!.sip.calls].filter((c) => c.op === 'takeOver')).toHaveLength(1);
    let moved = await store.get('up');
    for (let i = 0; i < 200 && moved?.version !== 3; i++) moved = await new Promise((r) => setTimeout(r, 10)).then(() => store.get('up'));
    expect(moved?.dialog?.localContact).toMatch(/:5071/);
    // adopted once (the second survivor found it no longer owned by the lost instance), then the refreshed dialog stored
    expect(moved?.version).toBe(3);
    // both survivors released the lost instance's event deliveries before adopting
    expect([...a!.events.releasedDeliveriesOf, ...b!.events.releasedDeliveriesOf]).toEqual(['dead', 'dead']);
  });

  it('at a drain, ends only its own calls in setup and leaves its established calls to a survivor', async () => {
    const store = new MemorySessionStore();
    await store.create(base('mine-setup', { owner: 's1' }), ACTIVE_SESSION_TTL_MS);
    await store.create(base('mine-up', { owner: 's1', status: 'Connected' }), ACTIVE_SESSION_TTL_MS);
    await store.create(base('theirs-setup', { owner: 's2' }), ACTIVE_SESSION_TTL_MS);
    const [a] = survivors(store, ['mine-setup', 'mine-up', 'theirs-setup']);
    await a!.adoption.handOver();
    expect(await store.get('mine-setup')).toMatchObject({ status: 'Failed', sipReason: 'the gateway instance is shutting down', owner: 's1' });
    expect(await store.get('mine-up')).toMatchObject({ status: 'Connected', owner: 's1' });
    expect((await store.get('theirs-setup'))?.status).toBe('Ringing');
    expect(a!.sip.calls.filter((c) => c.op === 'hangUp')).toHaveLength(1);
    // its own established call is not refreshed at a drain: the survivor that adopts it does that
    expect(a!.sip.calls.filter((c) => c.op === 'takeOver' || c.op === 'refreshSession')).toEqual([]);
  });
});

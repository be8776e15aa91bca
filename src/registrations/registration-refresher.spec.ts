import pino from 'pino';
import { loadConfig } from '../config/app-config';
import { Secret } from '../config/secret';
import { Clock } from '../common/clock';
import { MemoryRegistrationStore } from '../store/memory/memory-registration.store';
import type { Registration } from '../store/registration-store';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { FakeSipGateway } from '../../test/support/fake-sip-gateway';
import { RecordingEventPublisher } from '../../test/support/recording-event-publisher';
import { RegEvents } from './reg-events';
import { RegistrationRefresher } from './registration-refresher';
import { RegistrationsService } from './registrations.service';

const number = (i: number): string => `+1708600${String(i).padStart(4, '0')}`;

function record(i: number, now: number, dueAt: number): Registration {
  return {
    registrationId: `reg-${i}`,
    deviceId: `device-${i}`,
    phoneNumber: number(i),
    createdAt: now,
    expiresAt: now + 3_600_000,
    binding: { callId: `call-${i}`, cseq: 1, contact: `sip:reg-${i}@127.0.0.1:5070` },
    networkExpiresAt: now + 600_000,
    dueAt,
    refreshFailures: 0,
    version: 0,
  };
}

async function setup(due: number, notDue: number) {
  const config = loadConfig({ SIP_DOMAIN: 'ims.lab', SIP_IMS_PROFILE: 'plain' });
  const sip = new FakeSipGateway();
  const store = new MemoryRegistrationStore();
  const creds = SipCredentialsProvider.of(new Map([...Array(due + notDue).keys()].map((i) => [number(i), { username: number(i), password: new Secret('pw') }])));
  const logger = pino({ level: 'silent' });
  const registrations = new RegistrationsService(config, store, sip, creds, new RecordingEventPublisher(), Clock.system, logger);
  const regEvents = new RegEvents(config, store, sip, creds, registrations, Clock.system, logger);
  const refresher = new RegistrationRefresher(config, store, sip, creds, registrations, regEvents, Clock.system, logger);
  const now = Date.now();
  for (let i = 0; i < due + notDue; i++) expect(await store.create(record(i, now, i < due ? now - 1000 : now + 600_000))).toBe(true);
  const registered = (): Set<string> => new Set(sip.calls.flatMap((c) => (c.op === 'register' ? [c.target.registrationId] : [])));
  return { store, refresher, registered, now };
}

describe('RegistrationRefresher', () => {
  it('refreshes every due registration in one pass, beyond one claim batch, and leaves the others alone', async () => {
    // 450 due: more than two claims of 200; 30 not due yet
    const { store, refresher, registered, now } = await setup(450, 30);
    await refresher.tick();
    const done = registered();
    expect(done.size).toBe(450);
    for (let i = 0; i < 450; i++) expect(done.has(`reg-${i}`)).toBe(true);
    // not due: no REGISTER (the 450 above are the positive control of the same pass)
    for (let i = 450; i < 480; i++) expect(done.has(`reg-${i}`)).toBe(false);
    // each refreshed record is stored with its next refresh in the future
    const after = await Promise.all([...Array(450).keys()].map((i) => store.get(`reg-${i}`)));
    for (const r of after) {
      expect(r?.binding.cseq).toBe(2);
      expect(r?.dueAt).toBeGreaterThan(now);
    }
  });

  it('a second pass right after finds nothing due', async () => {
    const { refresher, registered } = await setup(250, 0);
    await refresher.tick();
    expect(registered().size).toBe(250);
    const calls = registered().size;
    await refresher.tick();
    expect(registered().size).toBe(calls);
  });
});

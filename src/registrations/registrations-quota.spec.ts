import pino from 'pino';
import { loadConfig } from '../config/app-config';
import { Secret } from '../config/secret';
import { Clock } from '../common/clock';
import type { LimitName } from '../common/limits/limit-telemetry';
import { MemoryRegistrationStore } from '../store/memory/memory-registration.store';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { FakeSipGateway } from '../../test/support/fake-sip-gateway';
import { RecordingEventPublisher } from '../../test/support/recording-event-publisher';
import { RegistrationsService } from './registrations.service';

const ALICE = '+17085852753';
const principal = { subject: 'alice', phoneNumber: ALICE, scopes: new Set<string>() };

function setup(cap: string) {
  const sip = new FakeSipGateway();
  const store = new MemoryRegistrationStore();
  const refused: LimitName[] = [];
  const creds = SipCredentialsProvider.of(new Map([[ALICE, { username: ALICE, password: new Secret('pw') }]]));
  const service = new RegistrationsService(loadConfig({ QUOTA_REGISTRATIONS_PER_NUMBER: cap }), store, sip, creds, new RecordingEventPublisher(), Clock.system, pino({ level: 'silent' }), {
    limitRefused: (l) => refused.push(l),
  });
  return { sip, store, service, refused };
}

describe('QUOTA_REGISTRATIONS_PER_NUMBER', () => {
  it('refuses the registration beyond the cap with 429 before any REGISTER', async () => {
    const t = setup('1');
    await t.service.create(principal, { deviceId: 'device-1' });
    await expect(t.service.create(principal, { deviceId: 'device-2' })).rejects.toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS', retryAfterS: expect.any(Number) });
    expect(t.sip.calls.filter((c) => c.op === 'register')).toHaveLength(1);
    expect(t.refused).toEqual(['registrations-per-number']);
  });

  it('the same device again at the cap is 409 ALREADY_EXISTS, not a quota refusal, and sends no REGISTER', async () => {
    const t = setup('1');
    await t.service.create(principal, { deviceId: 'device-1' });
    await expect(t.service.create(principal, { deviceId: 'device-1' })).rejects.toMatchObject({ status: 409, code: 'ALREADY_EXISTS' });
    expect(t.sip.calls.filter((c) => c.op === 'register')).toHaveLength(1);
    expect(t.refused).toEqual([]);
    // positive control: another device at the cap is the quota's
    await expect(t.service.create(principal, { deviceId: 'device-2' })).rejects.toMatchObject({ status: 429 });
    expect(t.refused).toEqual(['registrations-per-number']);
  });

  it('lets exactly the cap through when the creates race past the early check, and un-REGISTERs the losers', async () => {
    const t = setup('2');
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => t.service.create(principal, { deviceId: `device-${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'rejected' && (r.reason as { status?: number }).status === 429)).toHaveLength(4);
    expect(await t.store.countActiveByNumber(ALICE, Date.now())).toBe(2);
    // every REGISTER the store refused is undone on the network
    expect(t.sip.calls.filter((c) => c.op === 'register')).toHaveLength(6);
    expect(t.sip.calls.filter((c) => c.op === 'unregister')).toHaveLength(4);
    expect(t.refused).toHaveLength(4);
  });
});

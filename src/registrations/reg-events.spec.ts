import pino from 'pino';
import { loadConfig } from '../config/app-config';
import { Secret } from '../config/secret';
import type { Principal } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { MemoryRegistrationStore } from '../store/memory/memory-registration.store';
import { SipCredentialsProvider } from '../sip/sip-credentials.provider';
import { RegEventNotification, RegEventReply, RegInfo, SipFailure, SubscriptionState } from '../sip/sip-gateway';
import { FakeSipGateway } from '../../test/support/fake-sip-gateway';
import { RecordingEventPublisher } from '../../test/support/recording-event-publisher';
import { RegEvents } from './reg-events';
import { RegistrationRefresher } from './registration-refresher';
import { RegistrationsService } from './registrations.service';

const ALICE = '+17085852753';
const DEVICE = '6f1c2b7e-2d7a-4c2e-9a4b-0c6d2f3e4a5b';
const ENDS = 'org.camaraproject.webrtc-events.v0.registration-ends';
const principal: Principal = { subject: 'alice', phoneNumber: ALICE, scopes: new Set() };

async function setup(env: Record<string, string> = {}, laterEnv: Record<string, string> = {}) {
  const config = loadConfig({ SIP_DOMAIN: 'ims.lab', ...env });
  /** The configuration of the instance that handles the registration later (a restart with other settings). */
  const later = loadConfig({ SIP_DOMAIN: 'ims.lab', ...env, ...laterEnv });
  const sip = new FakeSipGateway();
  const events = new RecordingEventPublisher();
  const store = new MemoryRegistrationStore();
  const creds = SipCredentialsProvider.of(new Map([[ALICE, { username: ALICE, password: new Secret('pw') }]]));
  const logger = pino({ level: 'silent' });
  const registrations = new RegistrationsService(config, store, sip, creds, events, Clock.system, logger);
  const regEvents = new RegEvents(later, store, sip, creds, registrations, Clock.system, logger);
  regEvents.onModuleInit();
  const refresher = new RegistrationRefresher(later, store, sip, creds, registrations, regEvents, Clock.system, logger);
  sip.registerOutcome = (t) => ({
    binding: {
      callId: t.binding?.callId ?? `call-${sip.calls.length}`,
      cseq: (t.binding?.cseq ?? 0) + 1,
      contact: `sip:${t.registrationId}@127.0.0.1:5070`,
      ims: { serviceRoute: ['sip:orig@10.0.0.1;lr'], associatedUris: [`sip:${ALICE}@ims.lab`], path: [] },
    },
    grantedExpiresS: 600,
  });
  const { registrationId } = await registrations.create(principal, { deviceId: DEVICE });
  /** One refresher pass and the SUBSCRIBEs it started. */
  const pass = async (): Promise<void> => {
    await refresher.tick();
    await regEvents.settle();
  };
  /** Plays a NOTIFY and resolves with the answer given. */
  const notify = (n: Partial<RegEventNotification> & { reginfo?: RegInfo; subscriptionState?: SubscriptionState }): Promise<string> =>
    new Promise((resolve) => {
      const reply: RegEventReply = { accept: () => resolve('200'), unknownSubscription: () => resolve('481'), unavailable: () => resolve('500') };
      sip.emit('reg.notify', { registrationId, callId: `reg-0123456789abcdef-${registrationId}`, localTag: 'sub-lt', remoteTag: 'sub-rt', subscriptionState: { state: 'active' }, ...n }, reply);
    });
  const ops = (op: string) => sip.calls.filter((c) => c.op === op);
  return { sip, store, events, registrationId, pass, notify, ops, regEvents };
}

function reginfo(contact: { state: 'active' | 'terminated'; event: string; expiresS?: number }, registrationId: string, version = 1): RegInfo {
  return {
    version,
    state: 'full',
    registrations: [{ aor: `sip:${ALICE}@ims.lab`, id: 'r', state: 'active', contacts: [{ id: 'c', uri: `sip:${registrationId}@127.0.0.1:5070`, ...contact }] }],
  };
}

describe('RegEvents: the reg event package of IMS registrations (RFC 3680, TS 24.229 §5.1.1.3, §5.1.1.7)', () => {
  it('TS 24.229 §5.1.1.3: subscribes after the registration (Service-Route, preferred identity, 600000 s) without registering again, and keeps the dialog', async () => {
    const s = await setup();
    await s.pass();
    expect(s.ops('register')).toHaveLength(1);
    const [sub] = s.ops('subscribeRegEvent');
    expect(sub).toMatchObject({ target: { registrationId: s.registrationId, phoneNumber: ALICE, expiresS: 600000, route: ['sip:orig@10.0.0.1;lr'], preferredIdentity: `sip:${ALICE}@ims.lab` } });
    const reg = await s.store.get(s.registrationId);
    expect(reg?.regEvent).toMatchObject({ dialog: { localTag: 'sub-lt' }, failures: 0 });
    // the next pass is the REGISTER refresh (about a minute before 600 s), not the subscription (600000 s)
    expect(reg?.dueAt).toBe(reg?.regEvent?.registerDueAt);
  });

  it('SIP_IMS_PROFILE=plain: no subscription', async () => {
    const s = await setup({ SIP_IMS_PROFILE: 'plain' });
    await s.pass();
    expect(s.ops('subscribeRegEvent')).toHaveLength(0);
    expect((await s.store.get(s.registrationId))?.regEvent).toBeUndefined();
  });

  it('a registration made under the IMS profile and handled after a switch to plain drops its subscription without SUBSCRIBE', async () => {
    const s = await setup({}, { SIP_IMS_PROFILE: 'plain' });
    await s.pass();
    expect(s.ops('subscribeRegEvent')).toHaveLength(0);
    const reg = await s.store.get(s.registrationId);
    expect(reg?.regEvent).toBeUndefined();
    expect(reg?.dueAt).toBeGreaterThan(Date.now() + 60_000);
  });

  it('RFC 6665 §4.1.2.1: a subscription is refreshed in its dialog, but one that lapsed is made anew', async () => {
    const s = await setup();
    await s.pass();
    const reg = (await s.store.get(s.registrationId))!;
    const dialog = reg.regEvent!.dialog!;
    await s.store.update({ ...reg, dueAt: Date.now() - 1, regEvent: { ...reg.regEvent!, dueAt: Date.now() - 1 } }, reg.version);
    await s.pass();
    const again = (await s.store.get(s.registrationId))!;
    await s.store.update({ ...again, dueAt: Date.now() - 1, regEvent: { ...again.regEvent!, dueAt: Date.now() - 1, expiresAt: Date.now() - 1 } }, again.version);
    await s.pass();
    const [, refresh, anew] = s.ops('subscribeRegEvent');
    expect(refresh?.op === 'subscribeRegEvent' && refresh.target.dialog?.callId).toBe(dialog.callId);
    expect(anew?.op === 'subscribeRegEvent' && anew.target.dialog).toBeUndefined();
  });

  it('a REGISTER refresh that races a write of the subscription keeps both (the new binding CSeq and the subscription)', async () => {
    const s = await setup();
    await s.pass();
    const reg = (await s.store.get(s.registrationId))!;
    const due = await s.store.update({ ...reg, dueAt: Date.now() - 1, regEvent: { ...reg.regEvent!, registerDueAt: Date.now() - 1 } }, reg.version);
    const granted = s.sip.registerOutcome;
    s.sip.registerOutcome = (t) => {
      // a NOTIFY is applied while the REGISTER is on the wire
      void s.store.update({ ...due!, regEvent: { ...due!.regEvent!, version: { callId: 'c', value: 9 } } }, due!.version);
      return granted(t);
    };
    await s.pass();
    const after = await s.store.get(s.registrationId);
    expect(after?.binding.cseq).toBe(2);
    expect(after?.regEvent?.version).toEqual({ callId: 'c', value: 9 });
    expect(after?.dueAt).toBeGreaterThan(Date.now() + 60_000);
  });

  it('a refused SUBSCRIBE never fails the registration: it stays, and the SUBSCRIBE is retried later', async () => {
    const s = await setup();
    s.sip.subscribeOutcome = () => new SipFailure('rejected', 'SUBSCRIBE rejected: 489 Bad Event', 489, 'Bad Event');
    await s.pass();
    const reg = await s.store.get(s.registrationId);
    expect(reg?.regEvent).toMatchObject({ failures: 1 });
    expect(reg?.regEvent?.dueAt).toBeGreaterThan(Date.now() + 60_000);
    expect(s.events.published).toHaveLength(0);
  });

  it.each(['rejected', 'unregistered', 'expired'])(
    'TS 24.229 §5.1.1.7: our contact terminated (%s) → 200, registration deleted, registration-ends NETWORK_TERMINATED, no un-REGISTER',
    async (event) => {
      const s = await setup();
      await s.pass();
      expect(await s.notify({ reginfo: reginfo({ state: 'terminated', event }, s.registrationId) })).toBe('200');
      expect(await s.store.get(s.registrationId)).toBeUndefined();
      expect(s.events.published).toEqual([
        {
          audience: { phoneNumber: ALICE, deviceId: DEVICE },
          type: ENDS,
          data: { registrationId: s.registrationId, terminationReason: 'NETWORK_TERMINATED', terminationDescription: `The IMS core ended the registration (reg event: ${event}).` },
        },
      ]);
      expect(s.ops('unregister')).toHaveLength(0);
    },
  );

  it('RFC 6665 §4.1.3: a NOTIFY in no subscription of ours (other dialog, unknown registration) → 481', async () => {
    const s = await setup();
    await s.pass();
    expect(await s.notify({ localTag: 'not-ours' })).toBe('481');
    expect(await s.notify({ registrationId: 'aaaaaaaa-0000-0000-0000-000000000000' })).toBe('481');
    expect(await s.store.get(s.registrationId)).toBeDefined();
  });

  it('TS 24.229 §5.1.1.7: deactivated → an initial REGISTER at once (new Call-ID); the registration stays', async () => {
    const s = await setup();
    await s.pass();
    const before = await s.store.get(s.registrationId);
    expect(await s.notify({ reginfo: reginfo({ state: 'terminated', event: 'deactivated' }, s.registrationId) })).toBe('200');
    await s.regEvents.settle();
    const [, again] = s.ops('register');
    expect(again).toMatchObject({ target: { registrationId: s.registrationId } });
    expect(again?.op === 'register' && again.target.binding).toBeUndefined();
    const after = await s.store.get(s.registrationId);
    expect(after?.binding.callId).not.toBe(before?.binding.callId);
    expect(s.events.published).toHaveLength(0);
  });

  it('TS 24.229 §5.1.1.7: deactivated and the new REGISTER refused → the registration ends naming the event', async () => {
    const s = await setup();
    await s.pass();
    s.sip.registerOutcome = () => new SipFailure('rejected', 'REGISTER rejected: 403 Forbidden', 403, 'Forbidden');
    await s.notify({ reginfo: reginfo({ state: 'terminated', event: 'probation' }, s.registrationId) });
    await s.regEvents.settle();
    expect(await s.store.get(s.registrationId)).toBeUndefined();
    expect(s.events.published[0]?.data).toMatchObject({ terminationReason: 'NETWORK_TERMINATED', terminationDescription: expect.stringContaining('reg event: probation') });
  });

  it('RFC 3680 §5.3 shortened: the binding lapses earlier and the REGISTER refresh moves before it', async () => {
    const s = await setup();
    await s.pass();
    const t0 = Date.now();
    expect(await s.notify({ reginfo: reginfo({ state: 'active', event: 'shortened', expiresS: 40 }, s.registrationId) })).toBe('200');
    const reg = await s.store.get(s.registrationId);
    expect(reg?.networkExpiresAt).toBeLessThanOrEqual(Date.now() + 40_000);
    expect(reg?.dueAt).toBeLessThanOrEqual(Date.now() + 20_000);
    expect(reg?.dueAt).toBeGreaterThanOrEqual(t0 + 20_000);
  });

  it('RFC 3680 §5.2: a document not newer than the last applied is ignored', async () => {
    const s = await setup();
    await s.pass();
    expect(await s.notify({ reginfo: reginfo({ state: 'active', event: 'registered' }, s.registrationId, 5) })).toBe('200');
    expect(await s.notify({ reginfo: reginfo({ state: 'terminated', event: 'rejected' }, s.registrationId, 5) })).toBe('200');
    expect(await s.store.get(s.registrationId)).toBeDefined();
    expect(s.events.published).toHaveLength(0);
  });

  it.each<[string, SubscriptionState, boolean]>([
    ['rejected: never again', { state: 'terminated', reason: 'rejected' }, false],
    ['deactivated: subscribe again at the next pass', { state: 'terminated', reason: 'deactivated' }, true],
  ])('RFC 6665 §4.1.3 Subscription-State terminated;reason=%s', async (_name, subscriptionState, again) => {
    const s = await setup();
    await s.pass();
    expect(await s.notify({ subscriptionState })).toBe('200');
    const reg = await s.store.get(s.registrationId);
    expect(reg?.regEvent?.dialog).toBeUndefined();
    await s.pass();
    expect(s.ops('subscribeRegEvent')).toHaveLength(again ? 2 : 1);
    const [, second] = s.ops('subscribeRegEvent');
    if (second?.op === 'subscribeRegEvent') expect(second.target.dialog).toBeUndefined();
  });
});

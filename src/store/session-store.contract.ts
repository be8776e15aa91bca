import { randomUUID } from 'node:crypto';
import type { DialogState } from '../domain/dialog-state';
import type { MediaSession, SessionStore } from './session-store';

/** A SIP dialog as a test would store it; `over` replaces fields. */
export function aDialog(over: Partial<DialogState> = {}): DialogState {
  return {
    callId: `${randomUUID()}@gw.test`,
    role: 'uac',
    localTag: randomUUID().slice(0, 8),
    remoteTag: randomUUID().slice(0, 8),
    localUri: 'sip:+17085852753@ims.lab',
    remoteUri: 'sip:+15550009999@ims.lab',
    localSeq: 1,
    remoteTarget: 'sip:uas@127.0.0.1:5090',
    routeSet: ['<sip:127.0.0.1:5060;lr>'],
    localContact: 'sip:gw@127.0.0.1:5070',
    state: 'confirmed',
    ...over,
  };
}

/** A media session as a test would create it (no dialog yet, status Initial); `over` replaces fields. */
export function aSession(now: number, over: Partial<MediaSession> = {}): MediaSession {
  return {
    mediaSessionId: randomUUID(),
    direction: 'outgoing',
    phoneNumber: '+17085852753',
    originatorAddress: 'tel:+17085852753',
    receiverAddress: 'tel:+15550009999',
    callType: 'REGULAR',
    status: 'Initial',
    offer: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n',
    sequenceNumber: 0,
    createdAt: now,
    updatedAt: now,
    version: 0,
    ...over,
  };
}

export interface SessionStoreHarness {
  /** A fresh, empty store. */
  store: SessionStore;
  /** The time the store sees (epoch ms). */
  now: () => number;
  /** Lets `ms` pass for the store: a manual clock (memory) or a real wait (Redis). */
  advance: (ms: number) => Promise<void>;
  /** A TTL short enough to wait out with `advance` (real time on Redis: keep it about a second or two). */
  shortTtlMs: number;
}

const LONG_TTL_MS = 3600_000;

/**
 * One behaviour, two backends: run by the memory store's unit spec and by the Redis integration
 * test. `setup` returns a fresh, empty store per test.
 */
export function sessionStoreContract(name: string, setup: () => Promise<SessionStoreHarness>): void {
  describe(`SessionStore contract (${name})`, () => {
    let store: SessionStore;
    let now: () => number;
    let advance: (ms: number) => Promise<void>;
    let shortTtlMs: number;
    beforeEach(async () => {
      ({ store, now, advance, shortTtlMs } = await setup());
    });

    it('keeps the properties an update did not change and drops the ones it cleared', async () => {
      const s = aSession(now(), { dialog: aDialog(), answer: 'v=0\r\n', sipCode: 180, sipReason: 'Ringing' });
      await store.create(s, LONG_TTL_MS);
      const first = await store.update({ ...s, status: 'Connected', answer: undefined, sipCode: 200 }, 1, LONG_TTL_MS);
      expect(first).toEqual({ ...s, status: 'Connected', answer: undefined, sipCode: 200, version: 2 });
      const got = await store.get(s.mediaSessionId);
      expect(got).toEqual({ ...s, status: 'Connected', answer: undefined, sipCode: 200, version: 2 });
      const dialog = { ...s.dialog!, remoteTag: 'changed' };
      await store.update({ ...got!, dialog, remoteSdp: 'v=1\r\n' }, 2, LONG_TTL_MS);
      expect(await store.get(s.mediaSessionId)).toEqual({ ...s, status: 'Connected', answer: undefined, sipCode: 200, dialog, remoteSdp: 'v=1\r\n', version: 3 });
    });

    it('creates and reads back a session with version 1', async () => {
      const s = aSession(now(), { dialog: aDialog() });
      await store.create(s, LONG_TTL_MS);
      expect(await store.get(s.mediaSessionId)).toEqual({ ...s, version: 1 });
      expect(await store.get(randomUUID())).toBeUndefined();
    });

    it('finds a session by (Call-ID, local tag), telling apart two legs that share the Call-ID', async () => {
      const callId = `${randomUUID()}@gw.test`;
      const caller = aSession(now(), { dialog: aDialog({ callId, localTag: 'tag-a', role: 'uac' }) });
      const callee = aSession(now(), { direction: 'incoming', dialog: aDialog({ callId, localTag: 'tag-b', role: 'uas' }) });
      await store.create(caller, LONG_TTL_MS);
      await store.create(callee, LONG_TTL_MS);
      expect((await store.findByDialog(callId, 'tag-a'))?.mediaSessionId).toBe(caller.mediaSessionId);
      expect((await store.findByDialog(callId, 'tag-b'))?.mediaSessionId).toBe(callee.mediaSessionId);
      expect(await store.findByDialog(callId, 'tag-c')).toBeUndefined();
      expect(await store.findByDialog(`${randomUUID()}@gw.test`, 'tag-a')).toBeUndefined();
    });

    it('updates with compare-and-set on the version', async () => {
      const s = aSession(now());
      await store.create(s, LONG_TTL_MS);
      const v1 = (await store.get(s.mediaSessionId))!;
      const saved = await store.update({ ...v1, status: 'Ringing', sequenceNumber: 1 }, 1, LONG_TTL_MS);
      expect(saved).toEqual({ ...v1, status: 'Ringing', sequenceNumber: 1, version: 2 });
      expect(await store.get(s.mediaSessionId)).toEqual(saved);
      // a writer that read version 1 lost the race
      expect(await store.update({ ...v1, status: 'Failed' }, 1, LONG_TTL_MS)).toBeUndefined();
      expect((await store.get(s.mediaSessionId))?.status).toBe('Ringing');
      const v3 = await store.update({ ...saved!, status: 'Connected' }, 2, LONG_TTL_MS);
      expect(v3?.version).toBe(3);
      expect((await store.get(s.mediaSessionId))?.version).toBe(3);
    });

    it('refuses to update a session that does not exist', async () => {
      expect(await store.update(aSession(now(), { version: 1 }), 1, LONG_TTL_MS)).toBeUndefined();
      expect(await store.get(randomUUID())).toBeUndefined();
    });

    it('indexes a dialog set by a later update', async () => {
      const s = aSession(now());
      await store.create(s, LONG_TTL_MS);
      const dialog = aDialog({ state: 'early' });
      expect(await store.findByDialog(dialog.callId, dialog.localTag)).toBeUndefined();
      await store.update({ ...s, dialog, status: 'Ringing' }, 1, LONG_TTL_MS);
      const found = await store.findByDialog(dialog.callId, dialog.localTag);
      expect(found?.mediaSessionId).toBe(s.mediaSessionId);
      expect(found?.version).toBe(2);
      expect(found?.dialog).toEqual(dialog);
    });

    it('forgets a session, and its dialog, once the ttl of its last write has passed', async () => {
      const dialog = aDialog();
      const s = aSession(now(), { dialog });
      await store.create(s, shortTtlMs);
      await advance(shortTtlMs * 0.5);
      expect((await store.get(s.mediaSessionId))?.version).toBe(1);
      await advance(shortTtlMs * 0.7);
      expect(await store.get(s.mediaSessionId)).toBeUndefined();
      expect(await store.findByDialog(dialog.callId, dialog.localTag)).toBeUndefined();
      expect(await store.update({ ...s, status: 'Ringing' }, 1, LONG_TTL_MS)).toBeUndefined();
      expect(await store.get(s.mediaSessionId)).toBeUndefined();
    });

    it('restarts the ttl at each write, for the record and its dialog index', async () => {
      const dialog = aDialog();
      const s = aSession(now(), { dialog });
      await store.create(s, shortTtlMs);
      await advance(shortTtlMs * 0.6);
      expect(await store.update({ ...s, status: 'Ringing' }, 1, shortTtlMs)).toBeDefined();
      await advance(shortTtlMs * 0.6); // past the first write's ttl, within the second's
      expect((await store.get(s.mediaSessionId))?.status).toBe('Ringing');
      expect((await store.findByDialog(dialog.callId, dialog.localTag))?.mediaSessionId).toBe(s.mediaSessionId);
      await advance(shortTtlMs * 0.6);
      expect(await store.get(s.mediaSessionId)).toBeUndefined();
      expect(await store.findByDialog(dialog.callId, dialog.localTag)).toBeUndefined();
    });

    it('counts sessions whose status is not final', async () => {
      expect(await store.countActive()).toBe(0);
      const ringing = aSession(now(), { status: 'Ringing' });
      const initial = aSession(now());
      await store.create(ringing, LONG_TTL_MS);
      await store.create(initial, LONG_TTL_MS);
      await store.create(aSession(now(), { status: 'Terminated', endedAt: now() }), LONG_TTL_MS);
      expect(await store.countActive()).toBe(2);
      await store.update({ ...ringing, status: 'Connected' }, 1, LONG_TTL_MS);
      expect(await store.countActive()).toBe(2);
      await store.update({ ...ringing, status: 'Terminated', endedAt: now() }, 2, LONG_TTL_MS);
      expect(await store.countActive()).toBe(1);
      // a refused (stale) write changes nothing
      await store.update({ ...initial, status: 'Failed' }, 7, LONG_TTL_MS);
      expect(await store.countActive()).toBe(1);
      await store.update({ ...initial, status: 'NoAnswer', endedAt: now() }, 1, LONG_TTL_MS);
      expect(await store.countActive()).toBe(0);
    });

    it('counts the non-final sessions of one number (quota)', async () => {
      const ringing = aSession(now(), { status: 'Ringing', phoneNumber: '+17085850002' });
      await store.create(ringing, LONG_TTL_MS);
      await store.create(aSession(now(), { phoneNumber: '+17085850002' }), LONG_TTL_MS);
      await store.create(aSession(now(), { status: 'Terminated', endedAt: now(), phoneNumber: '+17085850002' }), LONG_TTL_MS);
      await store.create(aSession(now(), { phoneNumber: '+17085854000' }), LONG_TTL_MS);
      expect(await store.countActiveByNumber('+17085850002')).toBe(2);
      await store.update({ ...ringing, status: 'Terminated', endedAt: now() }, 1, LONG_TTL_MS);
      expect(await store.countActiveByNumber('+17085850002')).toBe(1);
      expect(await store.countActiveByNumber('+15550000000')).toBe(0);
    });

    it('stops counting an active session that expired without becoming final (a crashed instance)', async () => {
      await store.create(aSession(now(), { status: 'Connected' }), shortTtlMs);
      await store.create(aSession(now(), { status: 'Ringing' }), LONG_TTL_MS);
      expect(await store.countActive()).toBe(2);
      await advance(shortTtlMs * 1.2);
      expect(await store.countActive()).toBe(1);
    });

    it('copies on write and on read, so callers cannot change stored state', async () => {
      const dialog = aDialog();
      const s = aSession(now(), { dialog, locationDetails: { lat: 1 } });
      await store.create(s, LONG_TTL_MS);
      dialog.routeSet.push('<sip:evil;lr>');
      s.status = 'Connected';
      const got = (await store.get(s.mediaSessionId))!;
      expect(got.status).toBe('Initial');
      expect(got.dialog?.routeSet).toHaveLength(1);
      got.dialog!.localSeq = 99;
      got.locationDetails!.lat = 2;
      const again = (await store.get(s.mediaSessionId))!;
      expect(again.dialog?.localSeq).toBe(1);
      expect(again.locationDetails).toEqual({ lat: 1 });

      const saved = (await store.update({ ...again, status: 'Ringing' }, 1, LONG_TTL_MS))!;
      saved.dialog!.localSeq = 42;
      expect((await store.get(s.mediaSessionId))?.dialog?.localSeq).toBe(1);
    });
  });
}

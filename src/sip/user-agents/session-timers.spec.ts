import { EventEmitter } from 'node:events';
import pino from 'pino';
import type { CallSignal, SipEventMap } from '../sip-gateway';
import { confirmedDialog, fakeCore, OUTGOING_CALL, SDP_OFFER, serverTx } from './__testing__/fake-transaction-layer';
import { InDialogClient } from './in-dialog-client';
import { InviteClient } from './invite-client';
import { UserAgentServer } from './server';
import { expiryDelayS, parseSessionExpires, refreshDelayS, uasTimerFor } from './session-timer';
import { SessionTimers } from './session-timers';

const CFG = { expiresS: 1800, minSeS: 90 };
const CALL = OUTGOING_CALL;

function recorder() {
  const fired: string[] = [];
  const timers = new SessionTimers({ refreshDue: (c) => fired.push(`refresh ${c}`), expired: (c) => fired.push(`expired ${c}`) }, pino({ level: 'silent' }));
  return { fired, timers };
}

describe('RFC 4028 session timers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  describe('when to refresh and when to give up (§10)', () => {
    it.each([
      [1800, 900, 1768],
      [90, 45, 60],
      [300, 150, 268],
    ])('interval %i s: refresh at %i s, BYE at %i s (the smaller of 32 s and a third before)', (intervalS, refreshS, expiryS) => {
      expect(refreshDelayS({ intervalS, refresher: 'local' })).toBe(refreshS);
      expect(expiryDelayS({ intervalS, refresher: 'remote' })).toBe(expiryS);
    });

    it('as refresher: refresh due at half the interval; a successful refresh restarts both timers', () => {
      const { fired, timers } = recorder();
      timers.arm('c1', 'lt', { intervalS: 90, refresher: 'local' });
      jest.advanceTimersByTime(44_999);
      expect(fired).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(fired).toEqual(['refresh c1']);
      timers.arm('c1', 'lt', { intervalS: 90, refresher: 'local' }); // the refresh succeeded
      jest.advanceTimersByTime(59_999);
      expect(fired).toEqual(['refresh c1', 'refresh c1']);
    });

    it('as non-refresher: expired at interval − min(32, interval/3), once, and forgotten', () => {
      const { fired, timers } = recorder();
      timers.arm('c1', 'lt', { intervalS: 90, refresher: 'remote' });
      jest.advanceTimersByTime(59_999);
      expect(fired).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(fired).toEqual(['expired c1']);
      expect(timers.get('c1', 'lt')).toBeUndefined();
      jest.advanceTimersByTime(600_000);
      expect(fired).toEqual(['expired c1']);
    });

    it('stop() (BYE either way) cancels everything', () => {
      const { fired, timers } = recorder();
      timers.arm('c1', 'lt', { intervalS: 90, refresher: 'local' });
      timers.stop('c1', 'lt');
      jest.advanceTimersByTime(600_000);
      expect(fired).toEqual([]);
    });
  });

  describe('as UAC (§7)', () => {
    function uac(expiresS = 1800) {
      const core = fakeCore();
      const { fired, timers } = recorder();
      const client = new InviteClient(core, new InDialogClient(core, () => 0, timers), 'supported', { expiresS, minSeS: 90 }, timers);
      const signals: CallSignal[] = [];
      client.invite(CALL, 'sip:reg-1@127.0.0.1:5070', (s) => signals.push(s));
      return { stack: core.stack, signals, fired, timers };
    }

    it('asks for the configured interval: Supported: 100rel, timer; Session-Expires; Min-SE (§7.1)', () => {
      const { headers } = uac().stack.last('INVITE').rq;
      expect(headers.supported).toBe('100rel, timer');
      expect(headers['session-expires']).toBe('1800');
      expect(headers['min-se']).toBe('90');
    });

    it('SIP_SESSION_EXPIRES_S=0 asks for nothing', () => {
      const { headers } = uac(0).stack.last('INVITE').rq;
      expect(headers.supported).toBe('100rel');
      expect(headers['session-expires']).toBeUndefined();
    });

    it('retries a 422 once with the Min-SE it names, new CSeq, same Call-ID and tag (§6, §7.1)', () => {
      const { stack, signals } = uac();
      const first = stack.last('INVITE');
      stack.respondTo(first, 422, 'Session Interval Too Small', { 'min-se': '3600' });
      const retry = stack.last('INVITE');
      expect(retry).not.toBe(first);
      expect(retry.rq.headers.cseq?.seq).toBe(2);
      expect(retry.rq.headers['call-id']).toBe(first.rq.headers['call-id']);
      expect(retry.rq.headers.from?.params.tag).toBe(first.rq.headers.from?.params.tag);
      expect(retry.rq.headers['session-expires']).toBe('3600');
      expect(retry.rq.headers['min-se']).toBe('3600');
      expect(signals).toEqual([]);
      stack.respondTo(retry, 422, 'Session Interval Too Small', { 'min-se': '7200' });
      expect(stack.requests.filter((r) => r.rq.method === 'INVITE')).toHaveLength(2);
      expect(signals).toEqual([{ kind: 'rejected', code: 422, reason: 'Session Interval Too Small' }]);
    });

    it.each([
      ['120;refresher=uac', 'local'],
      ['120;refresher=uas', 'remote'],
      ['120', 'local'],
    ])('honours the 2xx Session-Expires %s: refresher %s (§7.2)', (se, refresher) => {
      const { stack, timers } = uac();
      stack.respondTo(stack.last('INVITE'), 200, 'OK', { 'session-expires': se, allow: 'INVITE, ACK, BYE, UPDATE', contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }] });
      const callId = stack.last('INVITE').rq.headers['call-id'] ?? '';
      expect(timers.get(callId, stack.last('INVITE').rq.headers.from?.params.tag as string)).toEqual({ intervalS: 120, refresher, allowsUpdate: true });
    });

    it('runs no timer when the 2xx has no Session-Expires (§7.2)', () => {
      const { stack, fired } = uac();
      stack.respondTo(stack.last('INVITE'), 200, 'OK', { contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }] });
      jest.advanceTimersByTime(10_000_000);
      expect(fired).toEqual([]);
    });
  });

  describe('refreshing (§7.4)', () => {
    function refresher(allowsUpdate: boolean) {
      const core = fakeCore();
      const { timers } = recorder();
      const client = new InDialogClient(core, () => 0, timers);
      const dialog = confirmedDialog();
      timers.arm(dialog.callId, dialog.localTag, { intervalS: 120, refresher: 'local' }, allowsUpdate);
      return { stack: core.stack, client, dialog, timers };
    }

    it('sends UPDATE without a body when the far end allows UPDATE, stating the interval and that we refresh', async () => {
      const { stack, client, dialog, timers } = refresher(true);
      const done = client.refresh(dialog, SDP_OFFER);
      const sent = stack.last('UPDATE');
      expect(sent.rq.content ?? '').toBe('');
      expect(sent.rq.headers['session-expires']).toBe('120;refresher=uac');
      expect(sent.rq.headers.supported).toBe('timer');
      stack.respondTo(sent, 200, 'OK', { 'session-expires': '300;refresher=uac' });
      await expect(done).resolves.toMatchObject({ outcome: 'accepted', dialog: { localSeq: 2 } });
      expect(timers.get(dialog.callId, dialog.localTag)).toMatchObject({ intervalS: 300, refresher: 'local' });
    });

    it('sends a re-INVITE with our current SDP unchanged otherwise, and ACKs its 2xx', async () => {
      const { stack, client, dialog } = refresher(false);
      const done = client.refresh(dialog, SDP_OFFER);
      const sent = stack.last('INVITE');
      expect(sent.rq.content).toBe(SDP_OFFER);
      stack.respondTo(sent, 200, 'OK', { 'content-type': 'application/sdp' }, SDP_OFFER);
      await expect(done).resolves.toMatchObject({ outcome: 'accepted' });
      expect(stack.stateless.map((m) => m.method)).toEqual(['ACK']);
    });

    it('a 481 to the refresh stops the timer (the dialog is gone, §12.2.1.2)', async () => {
      const { stack, client, dialog, timers } = refresher(true);
      const done = client.refresh(dialog, SDP_OFFER);
      stack.respondTo(stack.last('UPDATE'), 481, 'Call/Transaction Does Not Exist');
      await expect(done).resolves.toMatchObject({ outcome: 'gone', code: 481 });
      expect(timers.get(dialog.callId, dialog.localTag)).toBeUndefined();
    });
  });

  describe('as UAS (§9)', () => {
    const INVITE = (extra: string[]) =>
      serverTx(
        [
          'INVITE sip:reg-1@127.0.0.1:5070 SIP/2.0',
          'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKinv1',
          'From: <sip:+15550001234@ims.lab>;tag=bob-tag',
          'To: <sip:+17085852753@ims.lab>',
          'Call-ID: in-1',
          'CSeq: 1 INVITE',
          'Contact: <sip:bob@127.0.0.1:25060>',
          'Content-Type: application/sdp',
          ...extra,
        ],
        SDP_OFFER,
      );

    it.each<[string[], ReturnType<typeof uasTimerFor>]>([
      [
        ['Supported: timer', 'Session-Expires: 600;refresher=uac'],
        { kind: 'timer', timer: { intervalS: 600, refresher: 'remote' }, sessionExpires: { deltaS: 600, refresher: 'uac' }, requireTimer: true },
      ],
      [
        ['Supported: timer', 'Session-Expires: 600;refresher=uas'],
        { kind: 'timer', timer: { intervalS: 600, refresher: 'local' }, sessionExpires: { deltaS: 600, refresher: 'uas' }, requireTimer: false },
      ],
      [['Supported: timer', 'Session-Expires: 600'], { kind: 'timer', timer: { intervalS: 600, refresher: 'remote' }, sessionExpires: { deltaS: 600, refresher: 'uac' }, requireTimer: true }],
      [['Session-Expires: 600'], { kind: 'timer', timer: { intervalS: 600, refresher: 'local' }, sessionExpires: { deltaS: 600, refresher: 'uas' }, requireTimer: false }],
      [['Supported: timer', 'Session-Expires: 60'], { kind: 'too-small', minSeS: 90 }],
      [[], { kind: 'timer', timer: { intervalS: 1800, refresher: 'local' }, sessionExpires: { deltaS: 1800, refresher: 'uas' }, requireTimer: false }],
    ])('INVITE with %j → %j', (extra, decision) => {
      expect(uasTimerFor(INVITE(extra).request, CFG)).toEqual(decision);
    });

    function uas() {
      const core = fakeCore();
      const events = new EventEmitter<SipEventMap>();
      const { fired, timers } = recorder();
      const server = new UserAgentServer(core, events, new InDialogClient(core, () => 0, timers), (u) => `sip:${u}@127.0.0.1:5070`, 'supported', 500, CFG, timers);
      const keys: string[] = [];
      events.on('call.incoming', (c) => keys.push(c.key));
      return { core, server, keys, fired, timers };
    }

    it('refuses an interval below our Min-SE with 422 and Min-SE, before the app hears of it', () => {
      const { core, server, keys } = uas();
      server.onRequest(INVITE(['Supported: timer', 'Session-Expires: 60']).request, INVITE(['Session-Expires: 60']));
      const rs = core.stack.responses.at(-1)?.rs;
      expect(rs?.status).toBe(422);
      expect(rs?.headers['min-se']).toBe('90');
      expect(keys).toEqual([]);
    });

    it('answers with the caller’s Session-Expires and Require: timer when it refreshes, and expires without its refresh', () => {
      const { core, server, keys, fired } = uas();
      const tx = INVITE(['Supported: timer', 'Session-Expires: 90;refresher=uac']);
      server.onRequest(tx.request, tx);
      server.answer(keys[0] ?? '', SDP_OFFER);
      const rs = core.stack.responses.at(-1)?.rs;
      expect(rs?.status).toBe(200);
      expect(parseSessionExpires(rs?.headers['session-expires'])).toEqual({ deltaS: 90, refresher: 'uac' });
      expect(rs?.headers.require).toBe('timer');
      jest.advanceTimersByTime(60_000);
      expect(fired).toEqual(['expired in-1']);
    });
  });
});

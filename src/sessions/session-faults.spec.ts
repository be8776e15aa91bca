import { BYE_REPLAY_INTERVAL_MS, STORE_RETRY_AFTER_S } from './session-updates';
import { flush, principal, SDP, setup } from './__testing__/sessions-harness';

/** Store faults are never read as "no such call" (issue 13 item 6). */
describe('in-dialog requests during a store outage', () => {
  afterEach(() => jest.useRealTimers());

  async function connected() {
    const t = await setup();
    const { mediaSessionId } = await t.sessions.create(principal(), t.reg.registrationId, t.body());
    const { callId } = t.lastInvite();
    t.sip.signal(callId, { kind: 'answered', code: 200, reason: 'OK', sdp: SDP.replace('o=- 1 1', 'o=far 1 1'), dialog: t.sip.answeredDialog(callId) });
    await flush();
    return { ...t, id: mediaSessionId, callId };
  }

  it('answers a BYE 500 with Retry-After (RFC 3261 §21.5.1), never 481, and ends the session once the store is back', async () => {
    const { sip, id, callId, store, events } = await connected();
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const outage = jest.spyOn(store, 'findByDialog').mockRejectedValueOnce(new Error('Connection is closed.')).mockRejectedValueOnce(new Error('Connection is closed.'));
    expect(await sip.dialogRequest({ kind: 'bye', callId, localTag: 'lt', cseq: 9 })).toEqual({ reply: 'unavailable', retryAfterS: STORE_RETRY_AFTER_S });
    expect((await store.get(id))?.status).toBe('Connected');
    await jest.advanceTimersByTimeAsync(BYE_REPLAY_INTERVAL_MS); // still down: tried again later
    expect((await store.get(id))?.status).toBe('Connected');
    await jest.advanceTimersByTimeAsync(BYE_REPLAY_INTERVAL_MS); // back
    expect(outage).toHaveBeenCalledTimes(3);
    expect((await store.get(id))?.status).toBe('Terminated');
    expect(events.statuses().at(-1)).toBe('Terminated');
  });

  it('answers a BYE 500 with Retry-After when the store fails while the transition is written', async () => {
    const { sip, id, callId, store } = await connected();
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    jest.spyOn(store, 'update').mockRejectedValueOnce(new Error('Connection is closed.'));
    expect((await sip.dialogRequest({ kind: 'bye', callId, localTag: 'lt', cseq: 9 })).reply).toBe('unavailable');
    await jest.advanceTimersByTimeAsync(BYE_REPLAY_INTERVAL_MS);
    expect((await store.get(id))?.status).toBe('Terminated');
  });

  it('answers a re-INVITE 500 with Retry-After and changes nothing', async () => {
    const { sip, id, callId, store } = await connected();
    jest.spyOn(store, 'findByDialog').mockRejectedValueOnce(new Error('Connection is closed.'));
    const offer = SDP.replace('o=- 1 1', 'o=far 1 2') + 'a=sendonly\r\n';
    expect((await sip.dialogRequest({ kind: 'offer', method: 'INVITE', callId, localTag: 'lt', cseq: 9, sdp: offer })).reply).toBe('unavailable');
    expect((await store.get(id))?.status).toBe('Connected');
  });

  it('still answers 481 when the store answers that no session knows the dialog', async () => {
    const { sip } = await connected();
    expect((await sip.dialogRequest({ kind: 'bye', callId: 'unknown', localTag: 'lt', cseq: 2 })).reply).toBe('unknownDialog');
  });
});

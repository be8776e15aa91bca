import { flush, incomingCall, principal, SDP, setup } from './__testing__/sessions-harness';

/** RFC 3264 §6 (issue 13): an app's answer that does not fit the network's offer never reaches SIP. */
const SAVPF_OFFER = SDP.replace('m=audio 49170 RTP/AVP 0', 'm=audio 49170 UDP/TLS/RTP/SAVPF 0');

describe('an answer that does not fit the offer it answers', () => {
  it.each([
    ['RTP/AVP answering UDP/TLS/RTP/SAVPF', SDP, /m= line 1 .*uses RTP\/AVP but the offer's m= line 1 uses UDP\/TLS\/RTP\/SAVPF/],
    ['an extra m= line', `${SAVPF_OFFER}m=video 5002 UDP/TLS/RTP/SAVPF 96\r\n`, /2 m= lines but the offer it answers has 1/],
  ])('%s → 400 INVALID_ARGUMENT naming the line, and nothing sent on SIP', async (_what, answer, message) => {
    const t = await setup();
    t.sip.emit('call.incoming', incomingCall(t.reg.registrationId, { sdp: SAVPF_OFFER }));
    await flush();
    await flush();
    const id = String(t.events.published.find((p) => p.type.endsWith('session-invitation'))?.data.mediaSessionId);
    await expect(t.sessions.updateStatus(principal(), id, { status: 'Connected', answer: { sdp: answer } })).rejects.toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(message),
    });
    expect(t.sip.calls.filter((c) => c.op === 'answer')).toEqual([]);
  });
});

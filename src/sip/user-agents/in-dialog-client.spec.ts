import { SipFailure } from '../sip-gateway';
import { confirmedDialog, fakeCore, SDP_OFFER } from './__testing__/fake-transaction-layer';
import { glareDelayMs, InDialogClient } from './in-dialog-client';

const ANSWER = SDP_OFFER.replace('o=- 1 1', 'o=far 7 7');
const sdpHeaders = { 'content-type': 'application/sdp' };

function setup(random = (): number => 0) {
  const core = fakeCore();
  return { core, stack: core.stack, client: new InDialogClient(core, random) };
}

describe(InDialogClient.name, () => {
  afterEach(() => jest.useRealTimers());

  describe('modify', () => {
    it('sends a re-INVITE in a confirmed dialog and ACKs its 2xx, also each retransmission (RFC 3261 §13.2.2.4)', async () => {
      const { stack, client } = setup();
      const result = client.modify(confirmedDialog(), { kind: 'offer', sdp: SDP_OFFER });
      const sent = stack.last('INVITE');
      expect(sent.rq.headers.cseq).toEqual({ seq: 2, method: 'INVITE' });
      stack.respondTo(sent, 200, 'OK', sdpHeaders, ANSWER);
      stack.respondTo(sent, 200, 'OK', sdpHeaders, ANSWER);
      await expect(result).resolves.toMatchObject({ outcome: 'accepted', code: 200, offer: SDP_OFFER, answer: ANSWER, dialog: { localSeq: 2 } });
      expect(stack.stateless.map((m) => [m.method, m.headers.cseq?.seq])).toEqual([['ACK', 2]]);
      expect(stack.resent).toHaveLength(1);
    });

    it('sends an UPDATE in an early dialog (RFC 3311 §5.1), which is not ACKed', async () => {
      const { stack, client } = setup();
      const result = client.modify(confirmedDialog({ state: 'early' }), { kind: 'offer', sdp: SDP_OFFER });
      stack.respondTo(stack.last('UPDATE'), 200, 'OK', sdpHeaders, ANSWER);
      await expect(result).resolves.toMatchObject({ outcome: 'accepted' });
      expect(stack.requests.map((r) => r.rq.method)).toEqual(['UPDATE']);
      expect(stack.stateless).toHaveLength(0);
    });

    it.each([
      ['hold', 'a=sendrecv', 'a=sendonly'],
      ['hold', 'a=recvonly', 'a=inactive'],
      ['resume', 'a=sendonly', 'a=sendrecv'],
      ['resume', 'a=inactive', 'a=recvonly'],
    ] as const)('%s turns our %s into %s with a new o= version (RFC 3264 §8)', async (kind, from, to) => {
      const { stack, client } = setup();
      const result = client.modify(confirmedDialog(), { kind, localSdp: SDP_OFFER.replace('a=sendrecv', from) });
      const offer = stack.last('INVITE').rq.content ?? '';
      expect(offer).toContain(to);
      expect(offer).toMatch(/^o=- 1 2 IN IP4/m);
      stack.respondTo(stack.last('INVITE'), 200, 'OK', sdpHeaders, ANSWER);
      await expect(result).resolves.toMatchObject({ outcome: 'accepted', offer });
    });

    it.each([
      [481, 'Call/Transaction Does Not Exist', 'gone'],
      [408, 'Request Timeout', 'gone'],
      [488, 'Not Acceptable Here', 'refused'],
      [500, 'Server Internal Error', 'refused'],
      [603, 'Decline', 'refused'],
    ] as const)('%i %s -> %s, with the CSeq advanced', async (code, reason, outcome) => {
      const { stack, client } = setup();
      const result = client.modify(confirmedDialog(), { kind: 'offer', sdp: SDP_OFFER });
      stack.respondTo(stack.last('INVITE'), code, reason);
      await expect(result).resolves.toEqual({ outcome, code, reason, dialog: expect.objectContaining({ localSeq: 2 }) as unknown });
    });

    it('throws SipFailure timeout when the far end never answers', async () => {
      const { stack, client } = setup();
      const result = client.modify(confirmedDialog(), { kind: 'offer', sdp: SDP_OFFER });
      stack.last('INVITE').h.onTimeout();
      await expect(result).rejects.toEqual(expect.objectContaining({ kind: 'timeout' }));
      await expect(result).rejects.toBeInstanceOf(SipFailure);
    });

    it('throws SipFailure transport when the request cannot be sent', async () => {
      const { stack, client } = setup();
      const result = client.modify(confirmedDialog(), { kind: 'offer', sdp: SDP_OFFER });
      stack.last('INVITE').h.onTransportError(new Error('ECONNREFUSED'));
      await expect(result).rejects.toMatchObject({ kind: 'transport' });
    });
  });

  describe('modify after a 491 glare (RFC 3261 §14.1)', () => {
    beforeEach(() => jest.useFakeTimers());

    it('as owner of the Call-ID (uac) retries after 2.1 s at the earliest, with the next CSeq', async () => {
      const { stack, client } = setup(() => 0);
      const result = client.modify(confirmedDialog({ role: 'uac' }), { kind: 'offer', sdp: SDP_OFFER });
      stack.respondTo(stack.last('INVITE'), 491, 'Request Pending');
      await jest.advanceTimersByTimeAsync(2099);
      expect(stack.requests).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(stack.requests).toHaveLength(2);
      expect(stack.last('INVITE').rq.headers.cseq?.seq).toBe(3);
      stack.respondTo(stack.last('INVITE'), 200, 'OK', sdpHeaders, ANSWER);
      await expect(result).resolves.toMatchObject({ outcome: 'accepted', dialog: { localSeq: 3 } });
    });

    it('as the other party (uas) retries within 0–2 s', async () => {
      const { stack, client } = setup(() => 0.5);
      const result = client.modify(confirmedDialog({ role: 'uas' }), { kind: 'offer', sdp: SDP_OFFER });
      stack.respondTo(stack.last('INVITE'), 491, 'Request Pending');
      await jest.advanceTimersByTimeAsync(999);
      expect(stack.requests).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(stack.requests).toHaveLength(2);
      stack.respondTo(stack.last('INVITE'), 200, 'OK', sdpHeaders, ANSWER);
      await expect(result).resolves.toMatchObject({ outcome: 'accepted' });
    });

    it('gives up after two retries: the third 491 is a refusal', async () => {
      const { stack, client } = setup(() => 0.99);
      const result = client.modify(confirmedDialog({ role: 'uac' }), { kind: 'offer', sdp: SDP_OFFER });
      for (let i = 0; i < 3; i++) {
        stack.respondTo(stack.last('INVITE'), 491, 'Request Pending');
        await jest.advanceTimersByTimeAsync(4000);
      }
      await expect(result).resolves.toMatchObject({ outcome: 'refused', code: 491, dialog: { localSeq: 4 } });
      expect(stack.requests).toHaveLength(3);
    });

    it.each([
      ['uac', 0, 2100],
      ['uac', 0.999999, 4000],
      ['uas', 0, 0],
      ['uas', 0.999999, 2000],
    ] as const)('back-off of the %s with random %d is %d ms', (role, r, ms) => {
      expect(glareDelayMs(role, () => r)).toBeCloseTo(ms, 0);
    });
  });

  describe('sendLocation', () => {
    it.each([
      [200, true],
      [488, false],
    ])('UPDATE with the Geolocation headers and body; %i -> delivered %s', async (code, delivered) => {
      const { stack, client } = setup();
      const result = client.sendLocation(confirmedDialog(), {
        headers: { Geolocation: '<cid:loc@gw.lab>', 'Geolocation-Routing': 'yes' },
        body: { contentType: 'multipart/mixed;boundary=b', content: '--b--\r\n' },
      });
      const sent = stack.last('UPDATE');
      expect(sent.rq.headers).toMatchObject({ geolocation: '<cid:loc@gw.lab>', 'geolocation-routing': 'yes', 'content-type': 'multipart/mixed;boundary=b' });
      stack.respondTo(sent, code, 'x');
      await expect(result).resolves.toMatchObject({ delivered, code, dialog: { localSeq: 2 } });
    });

    it('refuses a header value with CR/LF before sending anything', async () => {
      const { stack, client } = setup();
      await expect(client.sendLocation(confirmedDialog(), { headers: { Geolocation: '<cid:x>\r\nVia: evil' }, body: { contentType: 'text/plain', content: '' } })).rejects.toThrow(/control character/);
      expect(stack.requests).toHaveLength(0);
    });
  });
});

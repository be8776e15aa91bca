import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { SipMessage } from 'sip';
import { Secret } from '../../config/secret';
import type { OutgoingCall } from '../sip-gateway';
import { fakeCore, OUTGOING_CALL } from './__testing__/fake-transaction-layer';
import { InDialogClient } from './in-dialog-client';
import { InviteClient } from './invite-client';

/**
 * What an answered outgoing INVITE keeps for the 64·T1 its 2xx may still be retransmitted
 * (RFC 3261 §13.2.2.4): the ACK of each 2xx, not the INVITE (its SDP, headers). Checked with a
 * weak reference and a forced GC.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

const CALL: OutgoingCall = { ...OUTGOING_CALL, credentials: { username: '+17085852753', password: new Secret('pw') } };

/** The 200 a far end sends to `rq`, built from a copy of its headers (the test keeps no reference to `rq`). */
function okFor(rq: SipMessage): SipMessage {
  const h = rq.headers;
  return {
    status: 200,
    reason: 'OK',
    headers: {
      via: [],
      to: { uri: h.to?.uri ?? '', params: { tag: 'far' } },
      from: { uri: h.from?.uri ?? '', params: { ...h.from?.params } },
      'call-id': h['call-id'],
      cseq: { seq: h.cseq?.seq ?? 0, method: 'INVITE' },
      contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }],
    },
  };
}

describe('InviteClient: what an answered INVITE keeps (RFC 3261 §13.2.2.4)', () => {
  it('lets the INVITE go after the 2xx, and ACKs a retransmitted 2xx again with the CSeq of the INVITE answered', async () => {
    const core = fakeCore();
    const client = new InviteClient(core, new InDialogClient(core));
    client.invite(CALL, 'sip:reg-1@127.0.0.1:5070', () => undefined);
    const stack = core.stack;
    stack.respondTo(stack.last('INVITE'), 407, 'Proxy Authentication Required', { 'proxy-authenticate': [{ scheme: 'Digest', realm: '"ims.lab"', nonce: '"n"', qop: '"auth"' }] });
    const { weak, h, ok } = (() => {
      const retried = stack.last('INVITE');
      return { weak: new WeakRef(retried.rq), h: retried.h, ok: okFor(retried.rq) };
    })();
    stack.requests.length = 0;

    // positive control: before the answer the INVITE is kept (a 422 or a challenge would need it)
    await collect();
    expect(weak.deref()).toBeDefined();

    h.onResponse(ok);
    expect(stack.stateless.map((m) => m.headers.cseq)).toEqual([{ seq: 2, method: 'ACK' }]);
    await collect();
    expect(weak.deref()).toBeUndefined();

    h.onResponse(ok);
    expect(stack.resent.map((m) => m.headers.cseq)).toEqual([{ seq: 2, method: 'ACK' }]);
  });
});

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { SipMessage } from 'sip';
import type { ClientHandlers } from './client-transactions';
import { request, response, setup } from './__testing__/client-harness';

/**
 * What a client transaction keeps while it lingers in Completed (RFC 3261 §17.1.2.2 Timer K,
 * §17.1.1.2 Timer D): its key, timer and (INVITE) ACK only, not the TU's handlers and what their
 * closures hold. Checked with weak references and a forced GC.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Handlers whose closure holds a large TU state, returned only through a weak reference. */
function weakHandlers(events: string[]): { h: WeakRef<ClientHandlers>; strong: () => ClientHandlers } {
  const state = { payload: Buffer.alloc(64 * 1024), responses: [] as SipMessage[] };
  let h: ClientHandlers | undefined = {
    onResponse: (rs) => {
      state.responses.push(rs);
      events.push(`response ${rs.status ?? 0}`);
    },
    onTimeout: () => events.push('timeout'),
    onTransportError: () => events.push('transport error'),
  };
  const ref = new WeakRef(h);
  return {
    h: ref,
    // hands the handlers over once and drops this closure's own reference
    strong: () => {
      const out = h as ClientHandlers;
      h = undefined;
      return out;
    },
  };
}

/** Collects after the current job: a WeakRef's target is kept until the job that created or read it ends. */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

describe('RFC 3261 §17.1 client transactions: what a completed transaction keeps', () => {
  it('§17.1.2.2 Timer K: a completed non-INVITE lets go of its handlers; one still in Proceeding keeps them', async () => {
    const { ct, sent, events } = setup(false);
    const done = weakHandlers(events);
    const pending = weakHandlers(events);
    ct.send(request('REGISTER', 1), done.strong());
    ct.send(request('SUBSCRIBE', 2), pending.strong());
    const [register, subscribe] = [sent[0]!.m, sent[1]!.m];
    ct.onResponse(response(register, 200));
    ct.onResponse(response(subscribe, 100));
    await collect();
    expect(done.h.deref()).toBeUndefined();
    // positive control: the transaction still waiting for its final keeps the TU's handlers, and uses them
    expect(pending.h.deref()).toBeDefined();
    ct.onResponse(response(subscribe, 200));
    // in Timer K a retransmitted final is absorbed, not passed up (§17.1.2.2)
    ct.onResponse(response(register, 200));
    expect(events).toEqual(['response 200', 'response 100', 'response 200']);
    await collect();
    expect(pending.h.deref()).toBeUndefined();
    ct.close();
  });

  it('§17.1.1.3 Timer D: a completed INVITE lets go of its handlers and still ACKs a retransmitted final', async () => {
    const { ct, sent, events } = setup(false);
    const done = weakHandlers(events);
    ct.send(request('INVITE'), done.strong());
    const invite = sent[0]!.m;
    ct.onResponse(response(invite, 486));
    await collect();
    expect(done.h.deref()).toBeUndefined();
    ct.onResponse(response(invite, 486));
    expect(sent.map((s) => s.m.method)).toEqual(['INVITE', 'ACK', 'ACK']);
    expect(events).toEqual(['response 486']);
    ct.close();
  });

  it('RFC 6026 §7.2 Accepted: an INVITE after its 2xx keeps its handlers, every 2xx goes to the TU', async () => {
    const { ct, sent, events } = setup(false);
    const accepted = weakHandlers(events);
    ct.send(request('INVITE'), accepted.strong());
    const invite = sent[0]!.m;
    ct.onResponse(response(invite, 200));
    await collect();
    expect(accepted.h.deref()).toBeDefined();
    ct.onResponse(response(invite, 200, 'b2'));
    expect(events).toEqual(['response 200', 'response 200']);
    ct.close();
  });

  it('RFC 6026 §7.2 Accepted: the INVITE and its bytes are let go for the 32 s linger; in Proceeding they are kept', async () => {
    const { ct, sent, events, h } = setup(false);
    // the request lives only in the transaction (and this weak reference)
    const weak = (() => {
      const base = request('INVITE');
      delete base.headers['content-length'];
      const rq: SipMessage = { ...base, content: 'v=0\r\n'.padEnd(16 * 1024, 'a'), headers: { ...base.headers, 'content-type': 'application/sdp' } };
      ct.send(rq, h);
      return new WeakRef(rq);
    })();
    const invite = sent[0]!.m;
    const [trying, ok, okAgain] = [response(invite, 100), response(invite, 200), response(invite, 200)];
    sent.length = 0;
    ct.onResponse(trying);
    await collect();
    // positive control: while the INVITE may still be retransmitted or time out, the transaction holds it
    expect(weak.deref()).toBeDefined();
    ct.onResponse(ok);
    await collect();
    expect(weak.deref()).toBeUndefined();
    // the handlers still get every 2xx, to ACK it
    ct.onResponse(okAgain);
    expect(events).toEqual(['response 100', 'response 200', 'response 200']);
    ct.close();
  });
});

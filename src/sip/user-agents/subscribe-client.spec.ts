import { EventEmitter } from 'node:events';
import { Secret } from '../../config/secret';
import type { RegEventNotification, RegEventReply, RegEventTarget, SipEventMap } from '../sip-gateway';
import { fakeCore, serverTx } from './__testing__/fake-transaction-layer';
import { NonInviteClient } from './non-invite-client';
import { onNotify } from './reg-event-notify';
import { registrationIdOfCallId, SubscribeClient } from './subscribe-client';

const REG_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const TARGET: RegEventTarget = {
  registrationId: REG_ID,
  phoneNumber: '+17085852753',
  expiresS: 600000,
  credentials: { username: '+17085852753', password: new Secret('pw') },
  route: ['sip:orig@10.0.0.1:5060;lr'],
  preferredIdentity: 'sip:+17085852753@ims.lab',
};

function client() {
  const core = fakeCore();
  return { core, client: new SubscribeClient(new NonInviteClient(core), 'ims.lab', (user) => `sip:${user}@127.0.0.1:5070`) };
}

describe(SubscribeClient.name, () => {
  it('TS 24.229 §5.1.1.3 / RFC 3680 §3.1: the initial SUBSCRIBE to the AoR with Event reg, Accept reginfo, Expires 600000, Service-Route and P-Preferred-Identity', async () => {
    const { core, client: c } = client();
    const granted = c.subscribe(TARGET);
    const sent = core.stack.last('SUBSCRIBE');
    expect(sent.rq.uri).toBe('sip:+17085852753@ims.lab');
    expect(sent.rq.headers.to).toEqual({ uri: 'sip:+17085852753@ims.lab', params: {} });
    expect(sent.rq.headers.from?.uri).toBe('sip:+17085852753@ims.lab');
    expect(sent.rq.headers.event).toBe('reg');
    expect(sent.rq.headers.accept).toBe('application/reginfo+xml');
    expect(sent.rq.headers.expires).toBe('600000');
    expect(sent.rq.headers.route).toEqual([{ uri: 'sip:orig@10.0.0.1:5060;lr', params: {} }]);
    expect(sent.rq.headers['p-preferred-identity']).toBe('<sip:+17085852753@ims.lab>');
    expect(sent.rq.headers.contact).toEqual([{ uri: `sip:${REG_ID}@127.0.0.1:5070`, params: {} }]);
    // the Call-ID names the registration (a NOTIFY finds it without an index)
    expect(registrationIdOfCallId(sent.rq.headers['call-id'] ?? '')).toBe(REG_ID);
    core.stack.respondTo(sent, 200, 'OK', { expires: '3600', contact: [{ uri: 'sip:scscf@10.0.0.2:5060', params: {} }], 'record-route': [{ uri: 'sip:pcscf@10.0.0.1;lr', params: {} }] });
    const grant = await granted;
    // RFC 6665 §4.1.2.1: the 2xx creates the dialog and names the granted duration
    expect(grant.expiresS).toBe(3600);
    expect(grant.dialog).toMatchObject({
      callId: sent.rq.headers['call-id'],
      remoteTag: 'remote-tag',
      remoteTarget: 'sip:scscf@10.0.0.2:5060',
      routeSet: ['sip:pcscf@10.0.0.1;lr'],
      localSeq: 1,
      state: 'confirmed',
    });
  });

  it('RFC 6665 §4.1.2.1: a refresh is a SUBSCRIBE in the dialog with the next CSeq; a 481 is a SipFailure with that status', async () => {
    const { core, client: c } = client();
    const first = c.subscribe(TARGET);
    core.stack.respondTo(core.stack.last('SUBSCRIBE'), 200, 'OK', { expires: '600000', contact: [{ uri: 'sip:scscf@10.0.0.2:5060', params: {} }] });
    const { dialog } = await first;
    const refresh = c.subscribe({ ...TARGET, dialog });
    const sent = core.stack.last('SUBSCRIBE');
    expect(sent.rq.uri).toBe('sip:scscf@10.0.0.2:5060');
    expect(sent.rq.headers.cseq).toEqual({ seq: 2, method: 'SUBSCRIBE' });
    expect(sent.rq.headers.to?.params.tag).toBe('remote-tag');
    expect(sent.rq.headers.event).toBe('reg');
    core.stack.respondTo(sent, 481, 'Subscription Does Not Exist');
    await expect(refresh).rejects.toMatchObject({ kind: 'rejected', status: 481 });
  });

  it('refuses a phone number that is not E.164 before anything is sent', async () => {
    const { core, client: c } = client();
    await expect(c.subscribe({ ...TARGET, phoneNumber: '+1\r\nX: y' })).rejects.toThrow('E.164');
    expect(core.stack.requests).toHaveLength(0);
  });
});

describe('onNotify (RFC 6665 §4.1.3, RFC 3680)', () => {
  const CALL_ID = `reg-0123456789abcdef-${REG_ID}`;
  const REGINFO = `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"><registration aor="sip:+17085852753@ims.lab" id="a" state="active"><contact id="1" state="active" event="registered"><uri>sip:${REG_ID}@127.0.0.1:5070</uri></contact></registration></reginfo>`;

  function notify(over: { callId?: string; event?: string; state?: string; type?: string; body?: string; toTag?: string } = {}) {
    return serverTx(
      [
        `NOTIFY sip:${REG_ID}@127.0.0.1:5070 SIP/2.0`,
        'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKn1',
        'From: <sip:+17085852753@ims.lab>;tag=scscf',
        `To: <sip:+17085852753@ims.lab>${over.toTag === '' ? '' : `;tag=${over.toTag ?? 'ours'}`}`,
        `Call-ID: ${over.callId ?? CALL_ID}`,
        'CSeq: 1 NOTIFY',
        `Event: ${over.event ?? 'reg'}`,
        `Subscription-State: ${over.state ?? 'active;expires=600000'}`,
        `Content-Type: ${over.type ?? 'application/reginfo+xml'}`,
      ],
      over.body ?? REGINFO,
    );
  }

  function run(tx: ReturnType<typeof serverTx>, answer: (reply: RegEventReply) => void = (r) => r.accept()) {
    const core = fakeCore();
    const events = new EventEmitter<SipEventMap>();
    const got: RegEventNotification[] = [];
    events.on('reg.notify', (n, reply) => {
      got.push(n);
      answer(reply);
    });
    onNotify(core, events, tx.request, tx);
    return { got, status: core.stack.responses.at(-1)?.rs.status };
  }

  it('a well-formed NOTIFY reaches the feature parsed, and its answer goes out (200)', () => {
    const { got, status } = run(notify());
    expect(status).toBe(200);
    expect(got).toEqual([
      {
        registrationId: REG_ID,
        callId: CALL_ID,
        localTag: 'ours',
        remoteTag: 'scscf',
        subscriptionState: { state: 'active', expiresS: 600000 },
        reginfo: {
          version: 0,
          state: 'full',
          registrations: [{ aor: 'sip:+17085852753@ims.lab', id: 'a', state: 'active', contacts: [{ id: '1', state: 'active', event: 'registered', uri: `sip:${REG_ID}@127.0.0.1:5070` }] }],
        },
      },
    ]);
  });

  it('the feature knows no such subscription: 481', () => {
    expect(run(notify(), (r) => r.unknownSubscription()).status).toBe(481);
  });

  it.each([
    ['a Call-ID that is not one of our reg subscriptions: 481', notify({ callId: 'someone-else' }), 481],
    ['no To tag (matches no subscription dialog): 481', notify({ toTag: '' }), 481],
    ['another event package: 489 Bad Event', notify({ event: 'presence' }), 489],
    ['an unparsable reginfo body: 400', notify({ body: '<reginfo version="x"' }), 400],
    ['no Subscription-State: 400', notify({ state: 'bogus' }), 400],
    ['a body of another type: 415', notify({ type: 'application/pidf+xml' }), 415],
  ])('%s, the feature is not asked', (_name, tx, code) => {
    const { got, status } = run(tx);
    expect(status).toBe(code);
    expect(got).toHaveLength(0);
  });
});

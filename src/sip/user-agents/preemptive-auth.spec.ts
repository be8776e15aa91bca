import { Secret } from '../../config/secret';
import { DigestCredentialCache } from '../digest-auth';
import type { CallSignal, OutgoingCall } from '../sip-gateway';
import { fakeCore, FakeTransactionLayer, OUTGOING_CALL } from './__testing__/fake-transaction-layer';
import { InDialogClient } from './in-dialog-client';
import { InviteClient } from './invite-client';
import { NonInviteClient } from './non-invite-client';

const credentials = { username: '+17085852753', password: new Secret('pw') };
const CALL: OutgoingCall = { ...OUTGOING_CALL, credentials };
const proxyChallenge = (nonce: string, stale = false) => ({
  'proxy-authenticate': [{ scheme: 'Digest', realm: '"ims.lab"', nonce: `"${nonce}"`, qop: '"auth"', ...(stale && { stale: 'true' }) }],
});
const nonceOf = (h: Record<string, string | undefined> | undefined): string | undefined => h?.nonce?.replace(/"/g, '');

function setup() {
  const core = fakeCore(new FakeTransactionLayer(), new DigestCredentialCache({ maxAgeMs: 60_000, maxEntries: 10 }));
  const client = new InviteClient(core, new InDialogClient(core));
  const stack = core.stack;
  const call = () => {
    const signals: CallSignal[] = [];
    const before = stack.requests.length;
    client.invite(CALL, 'sip:reg-1@127.0.0.1:5070', (s) => signals.push(s));
    const invites = () => stack.requests.slice(before).filter((r) => r.rq.method === 'INVITE');
    return { signals, invites };
  };
  return { stack, call };
}

describe('pre-emptive credentials on INVITE (RFC 3261 §22.1)', () => {
  it("the second call of a subscriber goes out signed with the nonce of the first call's 407, and is answered without a challenge", () => {
    const { stack, call } = setup();
    const first = call();
    expect(first.invites()[0]?.rq.headers['proxy-authorization']).toBeUndefined();
    stack.respondTo(stack.last('INVITE'), 407, 'Proxy Authentication Required', proxyChallenge('n1'));
    stack.respondTo(stack.last('INVITE'), 200, 'OK', { contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }] });
    expect(first.invites()).toHaveLength(2);

    const second = call();
    const sent = second.invites();
    expect(sent).toHaveLength(1);
    const auth = sent[0]?.rq.headers['proxy-authorization']?.[0];
    expect(nonceOf(auth)).toBe('n1');
    expect(auth?.nc).toBe('00000002');
    expect(sent[0]?.rq.headers.cseq?.seq).toBe(1);
    stack.respondTo(stack.last('INVITE'), 200, 'OK', { contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }] });
    expect(second.signals.map((s) => s.kind)).toEqual(['answered']);
  });

  it('a pre-emptive INVITE refused with stale=true is sent again once with the fresh nonce (CSeq + 1), and the fresh nonce is kept', () => {
    const { stack, call } = setup();
    call();
    stack.respondTo(stack.last('INVITE'), 407, 'Proxy Authentication Required', proxyChallenge('old'));
    stack.respondTo(stack.last('INVITE'), 200, 'OK', { contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }] });

    const second = call();
    stack.respondTo(stack.last('INVITE'), 407, 'Proxy Authentication Required', proxyChallenge('new', true));
    const sent = second.invites();
    expect(sent).toHaveLength(2);
    expect(sent[1]?.rq.headers.cseq?.seq).toBe(2);
    expect(sent[1]?.rq.headers['proxy-authorization']?.map(nonceOf)).toEqual(['new']);
    stack.respondTo(stack.last('INVITE'), 200, 'OK', { contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }] });
    expect(second.signals.map((s) => s.kind)).toEqual(['answered']);

    const third = call();
    expect(nonceOf(third.invites()[0]?.rq.headers['proxy-authorization']?.[0])).toBe('new');
  });

  it('credentials refused after the challenge was answered: the call fails (§22.2) and the next call starts without credentials', () => {
    const { stack, call } = setup();
    const first = call();
    stack.respondTo(stack.last('INVITE'), 407, 'Proxy Authentication Required', proxyChallenge('n1'));
    stack.respondTo(stack.last('INVITE'), 407, 'Proxy Authentication Required', proxyChallenge('n2'));
    expect(first.invites()).toHaveLength(2);
    expect(first.signals).toEqual([expect.objectContaining({ kind: 'rejected', code: 407 })]);
    expect(call().invites()[0]?.rq.headers['proxy-authorization']).toBeUndefined();
  });
});

describe('pre-emptive credentials on REGISTER and SUBSCRIBE (RFC 3261 §22.1)', () => {
  const register = (seq: number) => ({
    method: 'REGISTER',
    uri: 'sip:ims.lab',
    headers: { to: { uri: 'sip:+17085852753@ims.lab', params: {} }, from: { uri: 'sip:+17085852753@ims.lab', params: { tag: 't' } }, 'call-id': 'reg', cseq: { seq, method: 'REGISTER' } },
  });
  const regChallenge = (nonce: string) => ({ 'www-authenticate': [{ scheme: 'Digest', realm: '"ims.lab"', nonce: `"${nonce}"`, qop: '"auth"' }] });

  it("a refresh carries the registrar's last nonce and needs one transaction; a refused one is answered once", async () => {
    const core = fakeCore(new FakeTransactionLayer(), new DigestCredentialCache({ maxAgeMs: 60_000, maxEntries: 10 }));
    const client = new NonInviteClient(core);
    const stack = core.stack;

    const first = client.transact(register(1), credentials);
    stack.respondTo(stack.last('REGISTER'), 401, 'Unauthorized', regChallenge('r1'));
    stack.respondTo(stack.last('REGISTER'), 200, 'OK');
    expect((await first).lastSeq).toBe(2);
    expect(stack.requests).toHaveLength(2);

    const refresh = client.transact(register(3), credentials);
    expect(stack.requests).toHaveLength(3);
    expect(nonceOf(stack.last('REGISTER').rq.headers.authorization?.[0])).toBe('r1');
    stack.respondTo(stack.last('REGISTER'), 200, 'OK');
    expect(await refresh).toEqual(expect.objectContaining({ lastSeq: 3 }));

    const stale = client.transact(register(4), credentials);
    stack.respondTo(stack.last('REGISTER'), 401, 'Unauthorized', regChallenge('r2'));
    expect(nonceOf(stack.last('REGISTER').rq.headers.authorization?.[0])).toBe('r2');
    stack.respondTo(stack.last('REGISTER'), 200, 'OK');
    expect((await stale).response.status).toBe(200);
    expect(stack.requests).toHaveLength(5);
  });
});

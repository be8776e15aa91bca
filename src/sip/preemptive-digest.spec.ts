import { createHash } from 'node:crypto';
import type { SipMessage } from 'sip';
import { Secret } from '../config/secret';
import { DigestCredentialCache } from './digest-auth';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const alice = { username: '+17085852753', password: new Secret('s3cr3t-2753') };
const bob = { username: '+17085852754', password: new Secret('s3cr3t-2754') };

function request(method: string, from = alice.username): SipMessage {
  return {
    method,
    uri: 'sip:+15550009999@ims.lab',
    headers: {
      to: { uri: 'sip:+15550009999@ims.lab', params: {} },
      from: { uri: `sip:${from}@ims.lab`, params: { tag: 'ft' } },
      'call-id': `call-${method}`,
      cseq: { seq: 1, method },
    },
  };
}

function challenge(status: 401 | 407, nonce = 'n0nce', method = 'INVITE'): SipMessage {
  const h = { scheme: 'Digest', realm: '"ims.lab"', nonce: `"${nonce}"`, qop: '"auth"' };
  return { status, reason: 'Unauthorized', headers: { [status === 407 ? 'proxy-authenticate' : 'www-authenticate']: [h], cseq: { seq: 1, method } } };
}

function param(h: Record<string, string | undefined> | undefined, k: string): string {
  return (h?.[k] ?? '').replace(/^"|"$/g, '');
}

/** The response a server computes for these credentials (RFC 2617 §3.2.2.1, qop=auth). */
function expectedResponse(method: string, h: Record<string, string | undefined> | undefined, password: string): string {
  const ha1 = md5(`${param(h, 'username')}:ims.lab:${password}`);
  const ha2 = md5(`${method}:${param(h, 'uri')}`);
  return md5(`${ha1}:${param(h, 'nonce')}:${param(h, 'nc')}:${param(h, 'cnonce')}:auth:${ha2}`);
}

describe(DigestCredentialCache.name, () => {
  it('signs the next INVITE with the nonce of the last 407, nc counting up, with a digest the proxy accepts (RFC 3261 §22.1)', () => {
    const cache = new DigestCredentialCache({ maxAgeMs: 60_000, maxEntries: 10 });
    const first = request('INVITE');
    const answered = cache.answer(first, challenge(407), alice);
    expect(param(answered.headers['proxy-authorization']?.[0], 'nc')).toBe('00000001');

    for (const nc of ['00000002', '00000003']) {
      const next = request('INVITE');
      expect(cache.signPreemptively(next, alice)).toBe(true);
      const auth = next.headers['proxy-authorization']?.[0];
      expect(param(auth, 'nonce')).toBe('n0nce');
      expect(param(auth, 'nc')).toBe(nc);
      expect(param(auth, 'cnonce')).toBe(param(answered.headers['proxy-authorization']?.[0], 'cnonce'));
      expect(param(auth, 'response')).toBe(expectedResponse('INVITE', auth, 's3cr3t-2753'));
      // a new request: its CSeq is not touched
      expect(next.headers.cseq?.seq).toBe(1);
      expect(JSON.stringify(next)).not.toContain('s3cr3t');
    }
  });

  it('keeps subscribers apart: nothing is signed for one who was never challenged', () => {
    const cache = new DigestCredentialCache({ maxAgeMs: 60_000, maxEntries: 10 });
    cache.answer(request('INVITE'), challenge(407), alice);
    const other = request('INVITE', bob.username);
    expect(cache.signPreemptively(other, bob)).toBe(false);
    expect(other.headers['proxy-authorization']).toBeUndefined();
    // positive control: alice's next request is signed
    expect(cache.signPreemptively(request('INVITE'), alice)).toBe(true);
  });

  it("keeps the registrar's 401 for REGISTERs and the proxy's 407 for other requests, each in its own header", () => {
    const cache = new DigestCredentialCache({ maxAgeMs: 60_000, maxEntries: 10 });
    cache.answer(request('REGISTER'), challenge(401, 'reg-nonce', 'REGISTER'), alice);
    const invite = request('INVITE');
    expect(cache.signPreemptively(invite, alice)).toBe(false);
    const register = request('REGISTER');
    expect(cache.signPreemptively(register, alice)).toBe(true);
    expect(param(register.headers.authorization?.[0], 'nonce')).toBe('reg-nonce');
    expect(register.headers['proxy-authorization']).toBeUndefined();

    cache.answer(request('SUBSCRIBE'), challenge(407, 'proxy-nonce', 'SUBSCRIBE'), alice);
    expect(cache.signPreemptively(invite, alice)).toBe(true);
    expect(param(invite.headers['proxy-authorization']?.[0], 'nonce')).toBe('proxy-nonce');
    expect(invite.headers.authorization).toBeUndefined();
  });

  it("answers a far-end UAS's 401 to an INVITE without keeping it: the next call goes to another UAS", () => {
    const cache = new DigestCredentialCache({ maxAgeMs: 60_000, maxEntries: 10 });
    cache.answer(request('INVITE'), challenge(407, 'proxy-nonce'), alice);
    const answered = cache.answer(request('INVITE'), challenge(401, 'uas-nonce'), alice);
    expect(param(answered.headers.authorization?.[0], 'nonce')).toBe('uas-nonce');
    expect(cache.signPreemptively(request('INVITE'), alice)).toBe(false);
  });

  it('a fresh challenge replaces the refused pre-emptive credentials of the same realm (stale nonce)', () => {
    const cache = new DigestCredentialCache({ maxAgeMs: 60_000, maxEntries: 10 });
    cache.answer(request('INVITE'), challenge(407, 'old'), alice);
    const pre = request('INVITE');
    cache.signPreemptively(pre, alice);
    const retry = cache.answer(pre, challenge(407, 'new'), alice);
    expect(retry.headers['proxy-authorization']).toHaveLength(1);
    expect(param(retry.headers['proxy-authorization']?.[0], 'nonce')).toBe('new');
    expect(retry.headers.cseq?.seq).toBe(2);
    const next = request('INVITE');
    cache.signPreemptively(next, alice);
    expect(param(next.headers['proxy-authorization']?.[0], 'nonce')).toBe('new');
    expect(param(next.headers['proxy-authorization']?.[0], 'nc')).toBe('00000002');
  });

  it('forgets a subscriber whose credentials were refused', () => {
    const cache = new DigestCredentialCache({ maxAgeMs: 60_000, maxEntries: 10 });
    cache.answer(request('INVITE'), challenge(407), alice);
    cache.forget(request('INVITE'), alice);
    expect(cache.signPreemptively(request('INVITE'), alice)).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('stops reusing a nonce after maxAgeMs, and never with maxAgeMs 0', () => {
    let now = 1_000;
    const cache = new DigestCredentialCache({ maxAgeMs: 240_000, maxEntries: 10, now: () => now });
    cache.answer(request('INVITE'), challenge(407), alice);
    now += 239_000;
    expect(cache.signPreemptively(request('INVITE'), alice)).toBe(true);
    now += 2_000;
    expect(cache.signPreemptively(request('INVITE'), alice)).toBe(false);

    const off = new DigestCredentialCache({ maxAgeMs: 0, maxEntries: 10 });
    const answered = off.answer(request('INVITE'), challenge(407), alice);
    expect(answered.headers['proxy-authorization']).toHaveLength(1);
    expect(off.signPreemptively(request('INVITE'), alice)).toBe(false);
  });

  it('is bounded: the least recently used subscriber goes first', () => {
    const cache = new DigestCredentialCache({ maxAgeMs: 60_000, maxEntries: 2 });
    const carol = { username: '+17085852755', password: new Secret('c') };
    cache.answer(request('INVITE'), challenge(407), alice);
    cache.answer(request('INVITE', bob.username), challenge(407), bob);
    expect(cache.signPreemptively(request('INVITE'), alice)).toBe(true);
    cache.answer(request('INVITE', carol.username), challenge(407), carol);
    expect(cache.size).toBe(2);
    expect(cache.signPreemptively(request('INVITE', bob.username), bob)).toBe(false);
    expect(cache.signPreemptively(request('INVITE'), alice)).toBe(true);
  });
});

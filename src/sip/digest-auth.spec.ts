import { createHash } from 'node:crypto';
import type { SipMessage } from 'sip';
import { Secret } from '../config/secret';
import { buildAuthenticatedRequest, isChallenge } from './digest-auth';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const creds = { username: '+17085852753', password: new Secret('s3cr3t-2753') };

function invite(): SipMessage {
  return {
    method: 'INVITE',
    uri: 'sip:+15550009999@ims.lab',
    headers: {
      via: [{ version: '2.0', protocol: 'UDP', host: '127.0.0.1', port: 5070, params: { branch: 'z9hG4bKold', rport: null } }],
      to: { uri: 'sip:+15550009999@ims.lab', params: {} },
      from: { uri: 'sip:+17085852753@ims.lab', params: { tag: 'ft' } },
      'call-id': 'call-1',
      cseq: { seq: 7, method: 'INVITE' },
      'content-type': 'application/sdp',
    },
    content: 'v=0\r\ns=München\r\n',
  };
}

function challenge(status: 401 | 407, qop = '"auth"'): SipMessage {
  const h = { scheme: 'Digest', realm: '"ims.lab"', nonce: '"n0nce"', qop };
  return {
    status,
    reason: 'Unauthorized',
    headers: { [status === 407 ? 'proxy-authenticate' : 'www-authenticate']: [h], 'call-id': 'call-1', cseq: { seq: 7, method: 'INVITE' } },
  };
}

function param(h: Record<string, string | undefined>, k: string): string {
  return (h[k] ?? '').replace(/^"|"$/g, '');
}

describe('buildAuthenticatedRequest', () => {
  it('recognises challenges', () => {
    expect(isChallenge(challenge(401))).toBe(true);
    expect(isChallenge(challenge(407))).toBe(true);
    expect(isChallenge({ status: 403, headers: {} })).toBe(false);
  });

  it('answers a 407 with Proxy-Authorization, CSeq + 1, no Via (new branch comes from the stack)', () => {
    const sent = invite();
    const retry = buildAuthenticatedRequest(sent, challenge(407), creds);
    expect(retry.headers.via).toBeUndefined();
    expect(retry.headers.cseq).toEqual({ seq: 8, method: 'INVITE' });
    expect(retry.headers['call-id']).toBe('call-1');
    expect(retry.headers.from?.params.tag).toBe('ft');
    expect(retry.content).toBe(sent.content);
    expect(retry.headers.authorization).toBeUndefined();
    const auth = retry.headers['proxy-authorization']?.[0];
    if (!auth) throw new Error('no Proxy-Authorization');
    expect(param(auth, 'username')).toBe('+17085852753');
    expect(param(auth, 'uri')).toBe('sip:+15550009999@ims.lab');
    expect(param(auth, 'qop')).toBe('auth');
    const ha1 = md5('+17085852753:ims.lab:s3cr3t-2753');
    const ha2 = md5('INVITE:sip:+15550009999@ims.lab');
    expect(param(auth, 'response')).toBe(md5(`${ha1}:n0nce:${param(auth, 'nc')}:${param(auth, 'cnonce')}:auth:${ha2}`));
    // the original is untouched (its transaction may still see retransmissions)
    expect(sent.headers.cseq?.seq).toBe(7);
    expect(sent.headers.via?.[0]?.params.branch).toBe('z9hG4bKold');
  });

  it('answers a 401 with Authorization and never puts the password in the message', () => {
    const retry = buildAuthenticatedRequest(invite(), challenge(401, '"auth,auth-int"'), creds);
    const auth = retry.headers.authorization?.[0];
    expect(param(auth ?? { scheme: '' }, 'qop')).toBe('auth');
    expect(JSON.stringify(retry)).not.toContain('s3cr3t');
  });

  it('throws on a challenge without WWW-Authenticate', () => {
    expect(() => buildAuthenticatedRequest(invite(), { status: 401, headers: {} }, creds)).toThrow();
  });
});

import * as sip from 'sip';
import type { SipMessage } from 'sip';
import * as digest from 'sip/digest';
import type { SipCredentials } from './sip-gateway';

/** 401 (registrar/UAS, WWW-Authenticate) or 407 (proxy, Proxy-Authenticate): RFC 3261 §22.2, §22.3. */
export function isChallenge(rs: SipMessage): boolean {
  return rs.status === 401 || rs.status === 407;
}

/**
 * Builds the request that answers a digest challenge (RFC 3261 §22.2 / §8.1.3.5):
 *  - a deep copy of what was sent, with CSeq + 1 (it is a new transaction, same Call-ID/tags);
 *  - its Via REMOVED: `sip.copyMessage` keeps the old Via, and resending it would add a second
 *    Via with the old branch. The stack writes a fresh Via with a new branch;
 *  - Authorization (401) or Proxy-Authorization (407) computed by `sip/digest` (MD5, qop=auth
 *    preferred, RFC 2617 §3.2.2).
 * Throws when the challenge is unusable (no WWW-/Proxy-Authenticate, unsupported qop).
 */
export function buildAuthenticatedRequest(sent: SipMessage, challenge: SipMessage, credentials: SipCredentials): SipMessage {
  const retry = sip.copyMessage(sent, true);
  delete retry.headers.via;
  const cseq = retry.headers.cseq;
  if (!cseq) throw new Error('request without CSeq');
  retry.headers.cseq = { seq: cseq.seq + 1, method: cseq.method };
  // the digest (auth-int) must see the body bytes as the wire carries them (see wire.ts)
  const signing: SipMessage = {
    method: retry.method,
    uri: retry.uri,
    headers: retry.headers,
    content: retry.content ? Buffer.from(retry.content, 'utf8').toString('latin1') : retry.content,
  };
  digest.signRequest({ qop: 'auth,auth-int' }, signing, challenge, { user: credentials.username, password: credentials.password.reveal() });
  return retry;
}

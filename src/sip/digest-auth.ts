import * as sip from 'sip';
import type { SipMessage } from 'sip';
import * as digest from 'sip/digest';
import { LRUCache } from 'lru-cache';
import type { SipCredentials } from './sip-gateway';

/** 401 (registrar/UAS, WWW-Authenticate) or 407 (proxy, Proxy-Authenticate): RFC 3261 §22.2, §22.3. */
export function isChallenge(rs: SipMessage): boolean {
  return rs.status === 401 || rs.status === 407;
}

/**
 * What `sip/digest` keeps between the requests signed for one challenge: realm, nonce, opaque,
 * qop, cnonce, the nonce count and H(A1). H(A1) is derived from the password: never logged.
 */
type DigestContext = digest.DigestClientContext;

/** qop=auth preferred, auth-int when it is the only one offered (RFC 2617 §3.2.2). */
const QOP_PREFERENCE = 'auth,auth-int';

/**
 * Signs `rq` in place with `ctx` (Authorization or Proxy-Authorization). The digest (auth-int)
 * must see the body bytes as the wire carries them (see wire.ts); `challenge` starts a new context.
 */
function sign(ctx: DigestContext, rq: SipMessage, challenge?: SipMessage, credentials?: SipCredentials): void {
  const signing: SipMessage = {
    method: rq.method,
    uri: rq.uri,
    headers: rq.headers,
    content: rq.content ? Buffer.from(rq.content, 'utf8').toString('latin1') : rq.content,
  };
  if (challenge && credentials) digest.signRequest(ctx, signing, challenge, { user: credentials.username, password: credentials.password.reveal() });
  else digest.signRequest(ctx, signing);
}

/** The digest context a challenge starts, and the request that answers it. */
function answer(sent: SipMessage, challenge: SipMessage, credentials: SipCredentials): { request: SipMessage; ctx: DigestContext } {
  const retry = sip.copyMessage(sent, true);
  delete retry.headers.via;
  const cseq = retry.headers.cseq;
  if (!cseq) throw new Error('request without CSeq');
  retry.headers.cseq = { seq: cseq.seq + 1, method: cseq.method };
  const ctx: DigestContext = { qop: QOP_PREFERENCE };
  // credentials sent pre-emptively for the same realm are replaced (sip/digest filters by realm)
  sign(ctx, retry, challenge, credentials);
  return { request: retry, ctx };
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
  return answer(sent, challenge, credentials).request;
}

/** Subscribers whose last challenge one instance keeps (least recently used out first): ~1 KB each. */
export const PREEMPTIVE_AUTH_MAX_ENTRIES = 100_000;

export interface PreemptiveDigestOptions {
  /** How long a challenge's nonce is reused; 0 turns pre-emptive credentials off. */
  maxAgeMs: number;
  /** Subscribers whose last challenge is kept (least recently used out first). */
  maxEntries: number;
  /** Monotonic milliseconds (tests move it). */
  now?: () => number;
}

/**
 * Pre-emptive credentials (RFC 3261 §22.1, §22.3: a UA MAY send credentials without waiting for a
 * challenge, and SHOULD cache those of a realm; RFC 7616 §3.4 / RFC 2617 §3.2.2: the same nonce is
 * reused with the nonce count going up, until the server answers `stale=true`). A subscriber's
 * next out-of-dialog request is signed with the nonce of its last challenge, saving the request,
 * the 401/407 and (for an INVITE) the ACK of every call after the first.
 *
 * Only challenges every request of a subscriber meets are kept: a 407 (the outbound proxy chain,
 * the same for each request) and a REGISTER's 401 (the registrar). A 401 from a far-end UAS is
 * answered but not kept: the next call goes to another UAS. Per subscriber, not per realm: a core
 * that binds its nonces to the user (an S-CSCF does) would refuse a nonce issued to someone else.
 *
 * When the server refuses what was sent pre-emptively (stale nonce, password changed, a core that
 * never accepts a nonce twice) the context is dropped and the fresh challenge answered as if
 * nothing had been sent: the cost is then what it is without the cache.
 */
export class DigestCredentialCache {
  private readonly contexts: LRUCache<string, DigestContext> | undefined;

  constructor(opts: PreemptiveDigestOptions) {
    this.contexts = opts.maxAgeMs > 0 ? new LRUCache<string, DigestContext>({ max: opts.maxEntries, ttl: opts.maxAgeMs, ttlResolution: 0, ...(opts.now && { perf: { now: opts.now } }) }) : undefined;
  }

  /** Signs `rq` (a new out-of-dialog request) with the subscriber's cached context; true when it did. */
  signPreemptively(rq: SipMessage, credentials: SipCredentials): boolean {
    const ctx = this.contexts?.get(keyOf(rq, credentials));
    if (!ctx) return false;
    sign(ctx, rq);
    return true;
  }

  /**
   * The request answering `challenge` (see buildAuthenticatedRequest). Its context is kept for
   * the subscriber's next requests when the challenge is one every request meets.
   */
  answer(sent: SipMessage, challenge: SipMessage, credentials: SipCredentials): SipMessage {
    const { request, ctx } = answer(sent, challenge, credentials);
    const key = keyOf(sent, credentials);
    if (this.contexts && (challenge.status === 407 || sent.method === 'REGISTER')) this.contexts.set(key, ctx);
    else this.contexts?.delete(key);
    return request;
  }

  /** Drops the subscriber's context (its credentials were refused). */
  forget(rq: SipMessage, credentials: SipCredentials): void {
    this.contexts?.delete(keyOf(rq, credentials));
  }

  get size(): number {
    return this.contexts?.size ?? 0;
  }
}

/** The registrar's challenges and the proxy's are kept apart: their realms and nonces may differ. */
function keyOf(rq: SipMessage, credentials: SipCredentials): string {
  return `${rq.method === 'REGISTER' ? 'registrar' : 'proxy'}\n${credentials.username}`;
}

import type { SipMessage } from 'sip';
import { isChallenge } from '../digest-auth';
import { SipCredentials, SipFailure } from '../sip-gateway';
import type { UserAgentCore } from './user-agent-core';

export interface NonInviteOutcome {
  /** The final response (after at most one digest retry). */
  response: SipMessage;
  /** CSeq number of the last request sent (a digest retry takes the next one). */
  lastSeq: number;
}

/**
 * One non-INVITE transaction to the outbound proxy (REGISTER, SUBSCRIBE, OPTIONS), answering at
 * most one digest challenge (RFC 3261 §22.2: a second 401/407 means the credentials are wrong).
 * With credentials, the request first goes out signed with the subscriber's last challenge when
 * one is cached (RFC 3261 §22.1, DigestCredentialCache); a challenge to that is answered as usual.
 */
export class NonInviteClient {
  constructor(private readonly core: UserAgentCore) {}

  /** Resolves with the final response; rejects with SipFailure('timeout' | 'transport'). */
  transact(first: SipMessage, credentials: SipCredentials | undefined): Promise<NonInviteOutcome> {
    return new Promise((resolve, reject) => {
      let authed = false;
      const send = (rq: SipMessage): void => {
        this.core.stack.sendRequest(rq, {
          onResponse: (rs) => {
            const status = rs.status ?? 0;
            if (status < 200) return;
            if (isChallenge(rs) && credentials && !authed) {
              authed = true;
              let retry: SipMessage;
              try {
                retry = this.core.digest.answer(rq, rs, credentials);
              } catch (err) {
                this.core.logger.warn({ err, callId: rq.headers['call-id'] }, 'unusable digest challenge');
                resolve({ response: rs, lastSeq: rq.headers.cseq?.seq ?? 0 });
                return;
              }
              send(retry);
              return;
            }
            // §22.2: the credentials answering the challenge were refused too
            if (isChallenge(rs) && credentials) this.core.digest.forget(rq, credentials);
            resolve({ response: rs, lastSeq: rq.headers.cseq?.seq ?? 0 });
          },
          onTimeout: () => reject(new SipFailure('timeout', `${rq.method ?? ''} timed out (no final response from ${this.core.proxyName})`)),
          onTransportError: (err) => reject(new SipFailure('transport', `${rq.method ?? ''} could not be sent: ${err.message}`)),
        });
      };
      if (this.core.isClosed()) {
        reject(new SipFailure('transport', 'SIP gateway closed'));
        return;
      }
      if (credentials) this.core.digest.signPreemptively(first, credentials);
      send(first);
    });
  }
}

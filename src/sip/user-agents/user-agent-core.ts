import type { Logger } from 'pino';
import type { DigestCredentialCache } from '../digest-auth';
import type { SipStack } from '../sip-stack';

/** Methods we accept (Allow in INVITE, 2xx, 405 and OPTIONS answers; RFC 3261 §20.5). */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, NOTIFY';

/** The part of the stack the user agents use: a narrow seam that unit tests fake. */
export type TransactionLayer = Pick<SipStack, 'sendRequest' | 'sendStateless' | 'resend' | 'respond' | 'findServer' | 'findInvite' | 'dialogEnded'>;

/** What every user agent of one gateway instance shares. */
export interface UserAgentCore {
  readonly stack: TransactionLayer;
  readonly logger: Logger;
  /** True once the gateway is closed: nothing new is started. */
  isClosed(): boolean;
  /** The outbound proxy URI, for error messages. */
  readonly proxyName: string;
  /** Challenges answered, reused pre-emptively by the subscriber's next out-of-dialog request. */
  readonly digest: DigestCredentialCache;
}

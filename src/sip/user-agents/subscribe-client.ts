import type { SipMessage } from 'sip';
import { contactUri, inDialogRequest, routeUris } from '../dialog';
import { REGINFO_CONTENT_TYPE } from '../reginfo';
import { DialogState, RegEventGrant, RegEventTarget, SipFailure } from '../sip-gateway';
import { assertHeaderValue, assertUri, generateTag, SipSyntaxError } from '../sip-syntax';
import type { NonInviteClient } from './non-invite-client';

const E164 = /^\+[1-9]\d{1,14}$/;
const CALL_ID = /^reg-[0-9a-f]{16}-([0-9A-Za-z-]{1,64})$/;

/**
 * The Call-ID of a new `reg` subscription: random (RFC 3261 §8.1.1.4) and carrying the
 * registrationId, so that a NOTIFY finds its registration without another index.
 */
export function regEventCallId(registrationId: string): string {
  if (!/^[0-9A-Za-z-]{1,64}$/.test(registrationId)) throw new SipSyntaxError('registrationId cannot go into a Call-ID');
  return `reg-${generateTag()}-${registrationId}`;
}

/** The registrationId of a `reg` subscription's Call-ID; undefined for any other Call-ID. */
export function registrationIdOfCallId(callId: string): string | undefined {
  return CALL_ID.exec(callId)?.[1];
}

/** Headers of every SUBSCRIBE to `reg` (RFC 3680 §3.1, TS 24.229 §5.1.1.3). */
function regEventHeaders(rq: SipMessage, expiresS: number, preferredIdentity: string | undefined): SipMessage {
  if (!Number.isInteger(expiresS) || expiresS < 0) throw new SipSyntaxError('expires must be a non-negative integer');
  rq.headers.event = 'reg';
  rq.headers.accept = REGINFO_CONTENT_TYPE;
  rq.headers.expires = String(expiresS);
  if (preferredIdentity !== undefined) rq.headers['p-preferred-identity'] = `<${assertUri(preferredIdentity, 'P-Preferred-Identity')}>`;
  return rq;
}

/** RFC 6665 §4.1.2.1: the 2xx's Expires is the duration granted (it may be shorter than asked). */
function grantedExpires(rs: SipMessage, asked: number): number {
  const v = rs.headers.expires;
  return typeof v === 'string' && /^\s*\d{1,10}\s*$/.test(v) ? Number(v.trim()) : asked;
}

/**
 * SUBSCRIBE to the registration state of a public user identity (RFC 3680, 3GPP TS 24.229
 * §5.1.1.3) and its refreshes inside the subscription dialog (RFC 6665 §4.1.2). NOTIFYs are
 * received by the server user agent (`reg-event-notify.ts`).
 */
export class SubscribeClient {
  constructor(
    private readonly transactions: NonInviteClient,
    private readonly domain: string,
    private readonly contactFor: (user: string) => string,
  ) {}

  async subscribe(target: RegEventTarget): Promise<RegEventGrant> {
    const rq = target.dialog ? this.refresh(target, target.dialog) : this.initial(target);
    const { response, lastSeq } = await this.transactions.transact(rq, target.credentials);
    const status = response.status ?? 0;
    if (status >= 300) throw new SipFailure('rejected', `SUBSCRIBE rejected: ${status} ${response.reason ?? ''}`.trim(), status, response.reason);
    const dialog = target.dialog
      ? { ...target.dialog, localSeq: lastSeq, remoteTarget: contactUri(response) ?? target.dialog.remoteTarget }
      : this.dialogOf(rq, response, lastSeq, this.contactFor(target.registrationId));
    return { dialog, expiresS: grantedExpires(response, target.expiresS) };
  }

  /** A new subscription: R-URI, To and From the AoR (RFC 3680 §3.1), Service-Route preloaded (RFC 3608 §6). */
  private initial(target: RegEventTarget): SipMessage {
    if (!E164.test(target.phoneNumber)) throw new SipSyntaxError('phone number is not E.164');
    const aor = `sip:${target.phoneNumber}@${assertHeaderValue(this.domain, 'domain')}`;
    const rq: SipMessage = {
      method: 'SUBSCRIBE',
      uri: aor,
      headers: {
        to: { uri: aor, params: {} },
        from: { uri: aor, params: { tag: generateTag() } },
        'call-id': regEventCallId(target.registrationId),
        cseq: { seq: 1, method: 'SUBSCRIBE' },
        contact: [{ uri: this.contactFor(target.registrationId), params: {} }],
        'max-forwards': 70,
      },
    };
    if (target.route?.length) rq.headers.route = target.route.map((u) => ({ uri: assertUri(u, 'Route'), params: {} }));
    return regEventHeaders(rq, target.expiresS, target.preferredIdentity);
  }

  /** RFC 6665 §4.1.2.1: a refresh is a SUBSCRIBE in the dialog, CSeq + 1. */
  private refresh(target: RegEventTarget, dialog: DialogState): SipMessage {
    return regEventHeaders(inDialogRequest(dialog, 'SUBSCRIBE', dialog.localSeq + 1), target.expiresS, target.preferredIdentity);
  }

  /** RFC 6665 §4.1.2.1 / RFC 3261 §12.1.2: the 2xx creates the dialog; route set = Record-Route reversed. */
  private dialogOf(rq: SipMessage, rs: SipMessage, lastSeq: number, localContact: string): DialogState {
    const aor = rq.uri as string;
    const remoteTag = rs.headers.to?.params.tag;
    return {
      callId: rq.headers['call-id'] ?? '',
      role: 'uac',
      localTag: String(rq.headers.from?.params.tag ?? ''),
      ...(typeof remoteTag === 'string' && remoteTag !== '' && { remoteTag }),
      localUri: aor,
      remoteUri: aor,
      localSeq: lastSeq,
      remoteTarget: contactUri(rs) ?? aor,
      routeSet: routeUris(rs.headers['record-route']).reverse(),
      localContact,
      state: 'confirmed',
    };
  }
}

import * as sip from 'sip';
import type { SipMessage } from 'sip';
import { parseRegInfo, parseSubscriptionState, REGINFO_CONTENT_TYPE, RegInfo, SubscriptionState } from '../reginfo';
import type { ServerTransaction } from '../sip-stack';
import type { RegEventNotification, RegEventReply, SipEventMap } from '../sip-gateway';
import { generateTag, headerString } from '../sip-syntax';
import { registrationIdOfCallId } from './subscribe-client';
import type { UserAgentCore } from './user-agent-core';

/** Where a NOTIFY goes: the gateway's events. */
export type NotifyEvents = { emit(event: 'reg.notify', ...args: SipEventMap['reg.notify']): boolean; listenerCount(event: 'reg.notify'): number };

/**
 * A NOTIFY from the network (RFC 6665 §4.1.3). Only the `reg` event package (RFC 3680) is
 * subscribed to: anything else is 489; a NOTIFY outside our `reg` subscriptions is 481; a
 * malformed Subscription-State or reginfo body is 400. A well-formed one goes to the feature as
 * `reg.notify`, which answers 200 or 481 through the reply.
 */
export function onNotify(core: UserAgentCore, events: NotifyEvents, rq: SipMessage, tx: ServerTransaction): void {
  const reply = (code: number, reason: string, headers: Record<string, string> = {}): void => {
    const rs = sip.makeResponse(rq, code, reason);
    if (rq.headers.to && !rq.headers.to.params.tag) rs.headers.to = { ...rq.headers.to, params: { ...rq.headers.to.params, tag: generateTag() } };
    Object.assign(rs.headers, headers);
    if (!core.stack.respond(tx, rs)) core.logger.debug({ callId: rq.headers['call-id'], code }, 'NOTIFY transaction gone; response not sent');
  };
  // RFC 6665 §8.2.1: the Event header names the package; `reg` is the only one we subscribe to (RFC 3680 §4.1)
  const event = headerString(rq.headers.event)?.split(';')[0]?.trim().toLowerCase();
  if (event !== 'reg') return reply(489, 'Bad Event', { 'allow-events': 'reg' });
  const callId = rq.headers['call-id'] ?? '';
  const localTag = rq.headers.to?.params.tag;
  const registrationId = registrationIdOfCallId(callId);
  // RFC 6665 §4.1.3: a NOTIFY that matches no subscription of ours gets 481
  if (registrationId === undefined || typeof localTag !== 'string' || localTag === '' || events.listenerCount('reg.notify') === 0) {
    return reply(481, 'Subscription Does Not Exist');
  }
  const type = headerString(rq.headers['content-type'])?.split(';')[0]?.trim().toLowerCase();
  // RFC 3261 §21.4.13: a body we did not Accept
  if ((rq.content ?? '').trim() !== '' && type !== REGINFO_CONTENT_TYPE) return reply(415, 'Unsupported Media Type', { accept: REGINFO_CONTENT_TYPE });
  let subscriptionState: SubscriptionState;
  let reginfo: RegInfo | undefined;
  try {
    subscriptionState = parseSubscriptionState(headerString(rq.headers['subscription-state']));
    reginfo = bodyOf(rq);
  } catch (err) {
    core.logger.info({ callId, err: err instanceof Error ? err.message : String(err) }, 'reg NOTIFY refused: malformed');
    return reply(400, 'Bad Request');
  }
  const remoteTag = rq.headers.from?.params.tag;
  const notification: RegEventNotification = {
    registrationId,
    callId,
    localTag,
    ...(typeof remoteTag === 'string' && remoteTag !== '' && { remoteTag }),
    subscriptionState,
    ...(reginfo && { reginfo }),
  };
  let used = false;
  const once = (code: number, reason: string, headers?: () => Record<string, string>) => (): void => {
    if (used) return;
    used = true;
    reply(code, reason, headers?.());
  };
  const answer: RegEventReply = {
    accept: once(200, 'OK'),
    unknownSubscription: once(481, 'Subscription Does Not Exist'),
    unavailable: (retryAfterS) => once(500, 'Server Internal Error', () => ({ 'retry-after': String(Math.max(0, Math.round(retryAfterS))) }))(),
  };
  events.emit('reg.notify', notification, answer);
}

/** The reginfo document of the NOTIFY, undefined without a body (RFC 6665 §4.1.3 allows none). Throws on bad XML. */
function bodyOf(rq: SipMessage): RegInfo | undefined {
  const content = rq.content ?? '';
  return content.trim() === '' ? undefined : parseRegInfo(content);
}

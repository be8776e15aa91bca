import type { SipAor, SipAorWithUri, SipMessage } from 'sip';
import type { DialogState, NameAddr } from './sip-gateway';
import { fromAor, generateTag, toAor } from './sip-syntax';
import { stringifySipUri } from './syntax/sip-uri';

/** Dialog data as plain JSON (RFC 3261 §12). Pure functions: no I/O. */

/** Record-Route / Route entries as URI strings (the package parses them into objects). */
export function routeUris(entries: SipAorWithUri[] | undefined): string[] {
  if (!entries) return [];
  return entries.map((e) => {
    if (typeof e.uri === 'string') return e.uri;
    if (!e.uri) throw new Error('unparsable Record-Route URI');
    return stringifySipUri(e.uri);
  });
}

/** First Contact URI of a message (remote target), if any. */
export function contactUri(m: SipMessage): string | undefined {
  const c = m.headers.contact;
  if (!Array.isArray(c)) return undefined;
  const uri = c[0]?.uri;
  return typeof uri === 'string' && uri !== '' ? uri : undefined;
}

function tagOf(aor: SipAor | undefined): string | undefined {
  const t = aor?.params.tag;
  return typeof t === 'string' && t !== '' ? t : undefined;
}

/**
 * UAC: the dialog a response with a To tag creates or updates (RFC 3261 §12.1.2): remote tag from
 * To, route set = Record-Route REVERSED, remote target = Contact. `base` is the dialog known when
 * the INVITE was sent (no remote tag). A 2xx makes it `confirmed`.
 */
export function uacDialogFromResponse(base: DialogState, rs: SipMessage): DialogState {
  const remoteTag = tagOf(rs.headers.to);
  const status = rs.status ?? 0;
  const d: DialogState = {
    ...base,
    remoteTag,
    remoteTarget: contactUri(rs) ?? base.remoteTarget,
    routeSet: routeUris(rs.headers['record-route']).reverse(),
    state: status >= 200 && status < 300 ? 'confirmed' : 'early',
  };
  if (d.state === 'confirmed') delete d.invite;
  return d;
}

/**
 * UAS: the early dialog an initial INVITE creates (RFC 3261 §12.1.1): our tag chosen now, remote tag
 * = From tag, route set = Record-Route in order, remote target = Contact, remote CSeq = INVITE's.
 */
export function uasDialogFromInvite(rq: SipMessage, localContact: string, localTag: string = generateTag()): DialogState {
  const to = fromAor(rq.headers.to);
  const from = fromAor(rq.headers.from);
  if (!to || !from) throw new Error('INVITE without To/From');
  const d: DialogState = {
    callId: rq.headers['call-id'] ?? '',
    role: 'uas',
    localTag,
    remoteTag: tagOf(rq.headers.from),
    localUri: to.uri,
    remoteUri: from.uri,
    localSeq: 0,
    remoteSeq: rq.headers.cseq?.seq,
    remoteTarget: contactUri(rq) ?? from.uri,
    routeSet: routeUris(rq.headers['record-route']),
    localContact,
    state: 'early',
  };
  if (to.displayName !== undefined) d.localDisplayName = to.displayName;
  if (from.displayName !== undefined) d.remoteDisplayName = from.displayName;
  return d;
}

/** A loose router leaves `;lr` in its URI (RFC 3261 §19.1.1, §16.4). */
export function isLooseRoute(uri: string): boolean {
  return /;lr(?:[;=?>]|$)/i.test(uri);
}

/** Methods whose requests carry our Contact (target refresh, RFC 3261 §12.2.1.1, RFC 3311 §5.1). */
const NEEDS_CONTACT = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

/**
 * An in-dialog request (RFC 3261 §12.2.1.1). With a loose-routing first hop the R-URI is the remote
 * target and Route is the route set; with a strict router the first route becomes the R-URI and the
 * remote target goes last in Route. `seq` is the CSeq number (for ACK: the INVITE's).
 */
export function inDialogRequest(d: DialogState, method: string, seq: number): SipMessage {
  let uri = d.remoteTarget;
  let route = d.routeSet;
  const first = d.routeSet[0];
  if (first !== undefined && !isLooseRoute(first)) {
    // strict routing: strip parameters not allowed in a Request-URI (§19.1.1: method, maddr, ttl, transport, lr are fine; headers are not)
    uri = first.replace(/\?.*$/, '');
    route = [...d.routeSet.slice(1), d.remoteTarget];
  }
  const remote: NameAddr = { uri: d.remoteUri, ...(d.remoteDisplayName !== undefined ? { displayName: d.remoteDisplayName } : {}) };
  const local: NameAddr = { uri: d.localUri, ...(d.localDisplayName !== undefined ? { displayName: d.localDisplayName } : {}) };
  const rq: SipMessage = {
    method,
    uri,
    headers: {
      to: toAor(remote, d.remoteTag !== undefined ? { tag: d.remoteTag } : {}),
      from: toAor(local, { tag: d.localTag }),
      'call-id': d.callId,
      cseq: { seq, method },
      'max-forwards': 70,
    },
  };
  if (route.length > 0) rq.headers.route = route.map((u) => ({ uri: u, params: {} }));
  if (NEEDS_CONTACT.has(method)) rq.headers.contact = [{ uri: d.localContact, params: {} }];
  return rq;
}

/** The ACK for a 2xx to an INVITE (RFC 3261 §13.2.2.4): in-dialog, CSeq number of the INVITE, new branch. */
export function ackFor2xx(d: DialogState, inviteSeq: number): SipMessage {
  return inDialogRequest(d, 'ACK', inviteSeq);
}

/**
 * The stored dialog updated with what a newer response says: newer data wins, the CSeq never goes
 * back (an in-dialog request may have advanced it), and the CANCEL data of the pending INVITE is
 * kept until the dialog is confirmed (RFC 3261 §9.1).
 */
export function mergeDialog(prev: DialogState | undefined, next: DialogState | undefined): DialogState | undefined {
  if (!next) return prev;
  if (!prev) return next;
  const merged: DialogState = { ...prev, ...next, localSeq: Math.max(prev.localSeq, next.localSeq) };
  if (next.state !== 'confirmed') return merged;
  // a confirmed dialog has no pending INVITE to cancel any more, whatever the older record held
  // (left out by a rest copy, not `delete`, which would turn the object into a slow dictionary)
  const { invite: _cancelled, ...confirmed } = merged;
  return confirmed;
}

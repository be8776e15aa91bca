import type { SipMessage, SipVia } from 'sip';
import type { DialogState } from '../sip-gateway';
import { assertHeaderValue } from '../sip-syntax';
import { parseNameAddr, parseViaValue, stringifyNameAddr, stringifyVia } from '../syntax/header-values';
import { bareHost, stringifySipUri } from '../syntax/sip-uri';
import type { Peer } from '../transport';

/**
 * An incoming INVITE answered by an instance that does not hold its server transaction: the one
 * that received it was lost before the call was answered. The INVITE's Via, From, To and CSeq are
 * stored with the dialog (`DialogState.inviteServer`), and the final response is built from them
 * (RFC 3261 §8.2.6.2) and sent statelessly to the top Via (§18.2.2), where the proxy's transaction
 * matches it by branch (§17.1.3).
 */

/** A stored INVITE is small: more Vias than this (a loop, or a hostile peer) are not kept. */
const MAX_VIAS = 16;

const uriText = (u: unknown): string => (typeof u === 'string' ? u : u && typeof u === 'object' ? stringifySipUri(u as Parameters<typeof stringifySipUri>[0]) : '');

/** What a final response needs, from a received initial INVITE (its top Via already has `received`/`rport`); undefined when it cannot be kept. */
export function inviteServerOf(rq: SipMessage): DialogState['inviteServer'] {
  const vias = rq.headers.via ?? [];
  const from = rq.headers.from;
  const to = rq.headers.to;
  const seq = rq.headers.cseq?.seq;
  if (vias.length === 0 || vias.length > MAX_VIAS || !from || !to || seq === undefined) return undefined;
  try {
    return {
      via: vias.map((v) => assertHeaderValue(stringifyVia(v), 'Via')),
      from: assertHeaderValue(stringifyNameAddr(from, uriText), 'From'),
      to: assertHeaderValue(stringifyNameAddr(to, uriText), 'To'),
      cseq: seq,
    };
  } catch {
    return undefined;
  }
}

/**
 * The final response from the stored INVITE (RFC 3261 §8.2.6.2: Via, From, Call-ID and CSeq copied,
 * To with our tag, the dialog's local tag). Throws SipSyntaxError when the stored values do not parse.
 */
export function storedFinalResponse(dialog: DialogState & { inviteServer: NonNullable<DialogState['inviteServer']> }, code: number, reason: string): SipMessage {
  const stored = dialog.inviteServer;
  const to = parseNameAddr(assertHeaderValue(stored.to, 'To'));
  return {
    version: '2.0',
    status: code,
    reason,
    headers: {
      via: stored.via.map((v) => parseViaValue(assertHeaderValue(v, 'Via'))),
      from: parseNameAddr(assertHeaderValue(stored.from, 'From')),
      to: { ...to, params: { ...to.params, tag: dialog.localTag } },
      'call-id': assertHeaderValue(dialog.callId, 'Call-ID'),
      cseq: { seq: stored.cseq, method: 'INVITE' },
    },
  };
}

/**
 * Where a response goes without the request's connection (RFC 3261 §18.2.2, RFC 3581 §4): `maddr`
 * if present, else the `received` address (or the sent-by host) and the `rport` value (or the
 * sent-by port, 5060 by default, 5061 for TLS: §19.1.2). On TCP/TLS a new connection is opened to it.
 */
export function storedResponseTarget(via: SipVia): Peer {
  const tls = via.protocol.toUpperCase() === 'TLS';
  const sentByPort = via.port !== undefined && Number.isFinite(via.port) ? via.port : tls ? 5061 : 5060;
  const maddr = via.params.maddr;
  if (typeof maddr === 'string' && maddr !== '') return { address: bareHost(maddr), port: sentByPort };
  const received = via.params.received;
  const address = bareHost(typeof received === 'string' && received !== '' ? received : via.host);
  const rport = via.params.rport;
  const port = typeof rport === 'string' && /^\d{1,5}$/.test(rport) ? Number(rport) : sentByPort;
  return { address, port };
}

import pino from 'pino';
import type { SipMessage } from 'sip';
import { DigestCredentialCache } from '../../digest-auth';
import type { ClientHandlers, SendOptions, SentRequest, ServerTransaction } from '../../sip-stack';
import type { DialogState, OutgoingCall } from '../../sip-gateway';
import { decodeMessage } from '../../wire';
import type { TransactionLayer, UserAgentCore } from '../user-agent-core';

/** One request a user agent started, with the handlers to answer it. */
export interface SentClientRequest {
  rq: SipMessage;
  h: ClientHandlers;
  opts: SendOptions;
}

/** Records what user agents send; tests answer client transactions through `respondTo`. */
export class FakeTransactionLayer implements TransactionLayer {
  readonly requests: SentClientRequest[] = [];
  readonly stateless: SipMessage[] = [];
  readonly resent: SipMessage[] = [];
  readonly responses: Array<{ tx: ServerTransaction; rs: SipMessage }> = [];
  readonly invites = new Map<string, ServerTransaction>();
  /** Call-IDs whose dialog the far end ended (dialogEnded). */
  readonly ended: string[] = [];

  sendRequest(rq: SipMessage, h: ClientHandlers, opts: SendOptions = {}): SentRequest {
    this.requests.push({ rq, h, opts });
    const branch = `z9hG4bKtest${this.requests.length}`;
    return { branch, via: opts.via ?? `SIP/2.0/UDP 127.0.0.1:5070;branch=${branch}` };
  }

  sendStateless(m: SipMessage): Buffer {
    this.stateless.push(m);
    return Buffer.from('ack');
  }

  resend(_wire: Buffer, m: SipMessage): void {
    this.resent.push(m);
  }

  respond(tx: ServerTransaction, rs: SipMessage): boolean {
    if (tx.state !== 'proceeding') return false;
    this.responses.push({ tx, rs });
    if ((rs.status ?? 0) >= 200) tx.state = 'completed';
    return true;
  }

  dialogEnded(callId: string): void {
    this.ended.push(callId);
  }

  findServer(): ServerTransaction | undefined {
    return undefined;
  }

  findInvite(cancel: SipMessage): ServerTransaction | undefined {
    return this.invites.get(cancel.headers['call-id'] ?? '');
  }

  /** The last request sent with this method. */
  last(method: string): SentClientRequest {
    const found = [...this.requests].reverse().find((r) => r.rq.method === method);
    if (!found) throw new Error(`no ${method} sent`);
    return found;
  }

  /** Answers a client request with a response built from it. */
  respondTo(sent: SentClientRequest, status: number, reason: string, extra: Partial<SipMessage['headers']> = {}, content?: string): void {
    const rq = sent.rq;
    const to = rq.headers.to;
    const rs: SipMessage = {
      status,
      reason,
      headers: {
        via: rq.headers.via ?? [],
        ...(to && { to: { ...to, params: { ...to.params, tag: to.params.tag ?? 'remote-tag' } } }),
        from: rq.headers.from,
        'call-id': rq.headers['call-id'],
        cseq: rq.headers.cseq,
        ...extra,
      },
      ...(content !== undefined && { content }),
    };
    sent.h.onResponse(rs);
  }
}

/** `digest`: pre-emptive credentials, off unless a test turns them on. */
export function fakeCore(stack = new FakeTransactionLayer(), digest = new DigestCredentialCache({ maxAgeMs: 0, maxEntries: 1 })): UserAgentCore & { stack: FakeTransactionLayer } {
  return { stack, logger: pino({ level: 'silent' }), isClosed: () => false, proxyName: 'sip:127.0.0.1:5060', digest };
}

/** A server transaction around a request given as wire text (lines joined with CRLF). */
export function serverTx(lines: string[], body = ''): ServerTransaction {
  const text = `${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const request = decodeMessage(Buffer.from(text));
  if (!request) throw new Error(`unparsable test request:\n${text}`);
  return {
    id: `tx-${Math.random().toString(36).slice(2)}`,
    key: 'k',
    request,
    source: { address: '127.0.0.1', port: 5060, protocol: 'UDP' },
    invite: request.method === 'INVITE',
    state: 'proceeding',
  };
}

export const SDP_OFFER = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');

/** An outgoing call from the lab subscriber +17085852753 to +15550009999 with SDP_OFFER (no credentials). */
export const OUTGOING_CALL: OutgoingCall = {
  contactUser: 'reg-1',
  from: { uri: 'sip:+17085852753@ims.lab' },
  to: { uri: 'sip:+15550009999@ims.lab' },
  requestUri: 'sip:+15550009999@ims.lab',
  body: { contentType: 'application/sdp', content: SDP_OFFER },
};

export function confirmedDialog(overrides: Partial<DialogState> = {}): DialogState {
  return {
    callId: 'call-1',
    role: 'uac',
    localTag: 'local-tag',
    remoteTag: 'remote-tag',
    localUri: 'sip:+17085852753@ims.lab',
    remoteUri: 'sip:+17085854000@ims.lab',
    localSeq: 1,
    remoteTarget: 'sip:uas@127.0.0.1:25090',
    routeSet: ['sip:127.0.0.1:5060;lr'],
    localContact: 'sip:reg-1@127.0.0.1:5070',
    state: 'confirmed',
    ...overrides,
  };
}

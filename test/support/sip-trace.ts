/**
 * SIP assertions scoped to one exchange: a SIPp far end's `-trace_msg` file is read from a mark
 * taken before the action under test, parsed message by message, and a test asserts on the message
 * that answers its request (same Call-ID and CSeq), never on text an earlier test left in the trace
 * or on a regex spanning several messages.
 */
import { parseSipText, type SipText } from '../../src/sessions/emergency/__testing__/sip-body';
import { eventually } from './gateway';

export interface TracedMessage extends SipText {
  /** As SIPp saw it: `received` from the gateway's side, `sent` by the far end. */
  direction: 'received' | 'sent';
  /** Status code of a response, undefined for a request. */
  status?: number;
  /** Method of a request, or the CSeq method of a response. */
  method: string;
  callId: string;
  cseq: number;
}

/** Every message of a SIPp `-trace_msg` text, in order. */
export function tracedMessages(trace: string): TracedMessage[] {
  const out: TracedMessage[] = [];
  for (const block of trace.split(/^-{10,} .*\r?\n/m)) {
    // `UDP message received [1161] bytes :` / `UDP message sent (411 bytes):`
    const m = /^\w+ message (received|sent) (?:\[\d+\] bytes|\(\d+ bytes\)) ?:\r?\n\r?\n/.exec(block);
    if (!m) continue;
    const msg = parseSipText(block.slice(m[0].length));
    const [seq = '', cseqMethod = ''] = (msg.headers['cseq']?.[0] ?? '').split(/\s+/);
    const status = /^SIP\/2\.0 (\d{3}) /.exec(msg.startLine)?.[1];
    out.push({
      ...msg,
      direction: m[1] === 'sent' ? 'sent' : 'received',
      ...(status !== undefined && { status: Number(status) }),
      method: status !== undefined ? cseqMethod : (msg.startLine.split(' ')[0] ?? ''),
      callId: msg.headers['call-id']?.[0] ?? msg.headers['i']?.[0] ?? '',
      cseq: Number(seq),
    });
  }
  return out;
}

/** What a SIPp far end under test offers: its trace text. */
export interface TracedPeer {
  messages(): Promise<string>;
}

/** One exchange with a SIPp far end: only what it traced after `SipExchange.start()`. */
export class SipExchange {
  private constructor(
    private readonly peer: TracedPeer,
    private readonly from: number,
  ) {}

  /** Marks the trace's current end: nothing before it is seen. */
  static async start(peer: TracedPeer): Promise<SipExchange> {
    return new SipExchange(peer, (await peer.messages()).length);
  }

  async messages(): Promise<TracedMessage[]> {
    return tracedMessages((await this.peer.messages()).slice(this.from));
  }

  /** The first message of the exchange that matches, waiting for it. */
  waitFor(what: string, match: (m: TracedMessage) => boolean, timeoutMs = 5000): Promise<TracedMessage> {
    return eventually(async () => (await this.messages()).find(match), timeoutMs, `${what} in the SIPp trace`);
  }

  /** The first request `method` the far end received in this exchange. */
  received(method: string, timeoutMs?: number): Promise<TracedMessage> {
    return this.waitFor(`${method} received`, (m) => m.direction === 'received' && m.status === undefined && m.method === method, timeoutMs);
  }

  /** The first request `method` the far end sent in this exchange. */
  sent(method: string, timeoutMs?: number): Promise<TracedMessage> {
    return this.waitFor(`${method} sent`, (m) => m.direction === 'sent' && m.status === undefined && m.method === method, timeoutMs);
  }

  /** The final response to `request` (same Call-ID, CSeq number and method), going the other way. */
  finalResponseTo(request: TracedMessage, timeoutMs?: number): Promise<TracedMessage> {
    const way = request.direction === 'received' ? 'sent' : 'received';
    return this.waitFor(
      `final response to ${request.method} ${request.cseq}`,
      (m) => m.direction === way && m.status !== undefined && m.status >= 200 && m.callId === request.callId && m.cseq === request.cseq && m.method === request.method,
      timeoutMs,
    );
  }
}

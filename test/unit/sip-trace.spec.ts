import { tracedMessages } from '../support/sip-trace';

const block = (dir: 'received' | 'sent', msg: string): string =>
  `----------------------------------------------- 2026-11-29 21:12:24.676322\nUDP message ${dir === 'received' ? `received [${msg.length}] bytes :` : `sent (${msg.length} bytes):`}\n\n${msg}\n\n`;
const INVITE = 'INVITE sip:+15554080000@ims.lab;user=phone SIP/2.0\r\nCall-ID: c1\r\nCSeq: 2 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n';
const RINGING = 'SIP/2.0 180 Ringing\r\nCall-ID: c1\r\nCSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n';
const TERMINATED = 'SIP/2.0 487 Request Terminated\r\nCall-ID: c1\r\nCSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n';

describe(tracedMessages.name, () => {
  it('reads both directions of a SIPp -trace_msg file, message by message', () => {
    const trace = block('received', INVITE) + block('sent', RINGING) + block('sent', TERMINATED);
    expect(tracedMessages(trace).map((m) => [m.direction, m.status, m.method, m.cseq, m.callId])).toEqual([
      ['received', undefined, 'INVITE', 2, 'c1'],
      ['sent', 180, 'INVITE', 2, 'c1'],
      ['sent', 487, 'INVITE', 2, 'c1'],
    ]);
  });

  it('keeps a body to its Content-Length and never lets one message run into the next', () => {
    const [invite, ringing] = tracedMessages(block('received', INVITE) + block('sent', RINGING));
    expect(invite?.body).toBe('v=0\n');
    expect(ringing?.headers['cseq']).toEqual(['2 INVITE']);
  });
});

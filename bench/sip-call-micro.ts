/**
 * Full-call equivalent for bench/sip-micro.ts: the gateway's SipStack as UAC (INVITE client
 * transaction, 100/180/200, ACK for the 2xx, BYE non-INVITE transaction and its 200) over UDP on
 * loopback, against a tiny in-process UAS (SipTransport + the same codec). The figure is the whole
 * process's CPU per call (UAC stack + UAS + both sockets): only before/after ratios mean anything.
 */
import pino from 'pino';
import * as sip from 'sip';
import type { SipMessage } from 'sip';
import { SipStack } from '../src/sip/sip-stack';
import { generateCallId, generateTag } from '../src/sip/sip-syntax';
import { SipTransport } from '../src/sip/transport';
import { decodeSip, encodeMessage } from '../src/sip/wire';

/** The UAS: answers INVITE with 100, 180 and 200 (SDP), BYE with 200; ACK is absorbed. */
async function startUas(sdp: string): Promise<{ port: number; close(): Promise<void> }> {
  const uas: SipTransport = new SipTransport('UDP', '127.0.0.1', 0, {
    onMessage: (raw, from) => {
      const d = decodeSip(raw);
      if (d.kind !== 'message' || d.message.method === undefined || d.message.method === 'ACK') return;
      const rq = d.message;
      const reply = (status: number, reason: string, content?: string): void => {
        const rs = sip.makeResponse(rq, status, reason, content ? { headers: { 'content-type': 'application/sdp' }, content } : undefined);
        if (status > 100 && rs.headers.to && !rs.headers.to.params.tag) rs.headers.to.params.tag = 'uas1';
        if (status === 200 && rq.method === 'INVITE') rs.headers.contact = [{ uri: `sip:uas@127.0.0.1:${port}`, params: {} }];
        uas.send(encodeMessage(rs), from);
      };
      if (rq.method === 'INVITE') {
        reply(100, 'Trying');
        reply(180, 'Ringing');
        reply(200, 'OK', sdp);
      } else {
        reply(200, 'OK');
      }
    },
    onWarn: () => undefined,
  });
  await uas.listen();
  const port = (uas as unknown as { udp: { address(): { port: number } } }).udp.address().port;
  return { port, close: () => uas.close() };
}

function invite(port: number, sdp: string): SipMessage {
  return {
    method: 'INVITE',
    uri: `sip:+34600000002@127.0.0.1:${port}`,
    headers: {
      to: { uri: 'sip:+34600000002@ims.lab', params: {} },
      from: { uri: 'sip:+34600000001@ims.lab', params: { tag: generateTag() } },
      'call-id': generateCallId(),
      cseq: { seq: 1, method: 'INVITE' },
      contact: [{ uri: 'sip:gw@127.0.0.1:5080', params: {} }],
      'max-forwards': 70,
      'content-type': 'application/sdp',
    },
    content: sdp,
  };
}

/** One call: resolves when the BYE's 200 arrived. */
function call(stack: SipStack, port: number, sdp: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const rq = invite(port, sdp);
    const fail = (why: string) => (): void => reject(new Error(`bench call failed: ${why}`));
    stack.sendRequest(rq, {
      onResponse: (rs) => {
        if (rs.status !== 200) return;
        const headers = { to: rs.headers.to, from: rq.headers.from, 'call-id': rq.headers['call-id'], 'max-forwards': 70 };
        stack.sendStateless({ method: 'ACK', uri: `sip:uas@127.0.0.1:${port}`, headers: { ...headers, cseq: { seq: 1, method: 'ACK' } } });
        const bye: SipMessage = { method: 'BYE', uri: `sip:uas@127.0.0.1:${port}`, headers: { ...headers, cseq: { seq: 2, method: 'BYE' } } };
        stack.sendRequest(bye, { onResponse: (r) => (r.status !== undefined && r.status >= 200 ? resolve() : undefined), onTimeout: fail('BYE timeout'), onTransportError: fail('BYE transport') });
      },
      onTimeout: fail('INVITE timeout'),
      onTransportError: fail('INVITE transport'),
    });
  });
}

/** Runs `calls` calls, `concurrency` at a time, and prints CPU µs per call. */
export async function fullCalls(calls: number, sdp: string, concurrency = 50): Promise<void> {
  const uas = await startUas(sdp);
  const stack = new SipStack(
    { protocol: 'UDP', listenAddress: '127.0.0.1', listenPort: 0, advertisedHost: '127.0.0.1', outboundProxy: { address: '127.0.0.1', port: uas.port } },
    pino({ level: 'silent' }),
  );
  await stack.start({ onRequest: () => undefined, onAck: () => undefined, on2xxTimeout: () => undefined });
  const run = async (n: number): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        next++;
        await call(stack, uas.port, sdp);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  };
  await run(Math.min(1000, calls)); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await run(calls);
  const cpu = process.cpuUsage(cpu0);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(
    `${'full call (INVITE/100/180/200/ACK/BYE/200, UDP)'.padEnd(48)} ${((cpu.user + cpu.system) / calls).toFixed(1).padStart(8)} µs/call  (${calls} calls in ${ms.toFixed(0)} ms, ${concurrency} in flight)`,
  );
  await stack.close();
  await uas.close();
}

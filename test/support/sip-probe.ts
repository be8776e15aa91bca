/** Minimal raw-UDP SIP probe (OPTIONS) used to check that a SIP server answers. */
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * Send one OPTIONS to host:port over UDP and resolve with the status line of the first
 * response, or null if nothing came back within timeoutMs.
 */
export function sipOptionsPing(host: string, port: number, timeoutMs = 500): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    let done = false;
    const finish = (v: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        /* already closed */
      }
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on('error', () => finish(null));
    sock.on('message', (msg) => {
      const first = msg.toString('utf8').split('\r\n', 1)[0] ?? '';
      if (first.startsWith('SIP/2.0 ')) finish(first);
    });
    sock.bind(0, '127.0.0.1', () => {
      const { port: lport } = sock.address();
      const id = randomBytes(6).toString('hex');
      const msg = [
        `OPTIONS sip:${host}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK-probe-${id};rport`,
        `From: <sip:lab-probe@127.0.0.1>;tag=${id}`,
        `To: <sip:${host}:${port}>`,
        `Call-ID: probe-${id}@127.0.0.1`,
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      sock.send(msg, port, host, (err) => {
        if (err) finish(null);
      });
    });
  });
}

/**
 * Sends one raw SIP message (`\n` line ends become CRLF) over UDP or TCP from `host` and resolves
 * with the first response's status line, or null after timeoutMs. For malformed messages SIPp
 * cannot send or match (e.g. a CSeq beyond its own integer range). IPv6 hosts work.
 */
export function sipRawExchange(host: string, port: number, transport: 'udp' | 'tcp', text: (local: { host: string; port: number }) => string, timeoutMs = 2000): Promise<string | null> {
  const wire = (local: { host: string; port: number }): Buffer => Buffer.from(text(local).replace(/\r?\n/g, '\r\n'));
  return new Promise((resolve) => {
    let done = false;
    let close: () => void = () => undefined;
    const finish = (v: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      close();
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    const onData = (buf: Buffer): void => {
      const first = buf.toString('utf8').split('\r\n', 1)[0] ?? '';
      if (first.startsWith('SIP/2.0 ')) finish(first);
    };
    if (transport === 'udp') {
      const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
      close = () => sock.close();
      sock.on('error', () => finish(null));
      sock.on('message', onData);
      sock.bind(0, host, () => sock.send(wire({ host, port: sock.address().port }), port, host, (err) => err && finish(null)));
    } else {
      const sock = connect({ host, port, localAddress: host }, () => sock.write(wire({ host, port: sock.localPort ?? 0 })));
      close = () => sock.destroy();
      sock.on('error', () => finish(null));
      sock.on('data', onData);
    }
  });
}

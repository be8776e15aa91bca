import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { DEFAULT_MAX_MESSAGE_BYTES, makeStreamFramer } from './wire';

/** Socket buffer asked for the UDP listener (capped by the kernel). */
export const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

export type SipProtocol = 'UDP' | 'TCP';

export interface Peer {
  address: string;
  port: number;
}

/** Where a message came from; for TCP the connection it arrived on (responses go back on it, RFC 3261 §18.2.2). */
export interface Inbound extends Peer {
  protocol: SipProtocol;
  connection?: net.Socket;
}

export interface TransportEvents {
  onMessage(raw: Buffer, from: Inbound): void;
  onWarn(message: string, err?: unknown): void;
  /** A TCP peer was refused or cut off (cap reached, idle, oversized or unframable message); logged by the stack, rate-limited. */
  onConnectionRefused?(reason: 'cap' | 'idle' | 'too-large' | 'bad-framing', peer: string): void;
}

/** Bounds for hostile or careless peers (issue 13): RFC 3261 leaves them to the implementation. */
export interface TransportLimits {
  /** Largest message accepted (header section + body), UDP and TCP. */
  maxMessageBytes: number;
  /** Concurrent TCP connections (inbound and outbound); more are closed at once. */
  tcpMaxConnections: number;
  /** A TCP connection with no bytes for this long is closed (0: never). */
  tcpIdleTimeoutMs: number;
}

export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES, tcpMaxConnections: 1024, tcpIdleTimeoutMs: 120_000 };

/**
 * Our own UDP/TCP sockets (the package's transports bind without an 'error' listener, so an
 * EADDRINUSE or a socket error would crash the process, and its UDP transport ignores send errors).
 * Exactly one listening socket per gateway instance: UDP, or TCP (server + connections), per config;
 * no TCP listener is opened when the transport is UDP.
 */
export class SipTransport {
  private udp?: dgram.Socket;
  private server?: net.Server;
  private readonly connections = new Map<string, net.Socket>();
  private bound = false;
  private closed = false;

  constructor(
    readonly protocol: SipProtocol,
    private readonly address: string,
    private readonly port: number,
    private readonly events: TransportEvents,
    private readonly limits: TransportLimits = DEFAULT_TRANSPORT_LIMITS,
  ) {}

  get listening(): boolean {
    return this.bound && !this.closed;
  }

  async listen(): Promise<void> {
    if (this.protocol === 'UDP') {
      // One socket carries every subscriber's signalling: bursts (a wave of REGISTER refreshes, a
      // call spike) overflow the kernel's default ~200 KB buffers, and every lost datagram costs a
      // T1 (500 ms) retransmission. Ask for 4 MiB; Linux caps it at net.core.[rw]mem_max.
      const socket = dgram.createSocket({ type: net.isIPv6(this.address) ? 'udp6' : 'udp4', reuseAddr: false, recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
      this.udp = socket;
      socket.on('message', (buf, rinfo) => this.events.onMessage(buf, { protocol: 'UDP', address: rinfo.address, port: rinfo.port }));
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(this.port, this.address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      // after bind: never let a socket error reach the process
      socket.on('error', (err) => this.events.onWarn('UDP socket error', err));
    } else {
      const server = net.createServer((sock) => {
        const key = `${sock.remoteAddress ?? ''}:${sock.remotePort ?? 0}`;
        if (this.connections.size >= this.limits.tcpMaxConnections) {
          this.events.onConnectionRefused?.('cap', key);
          sock.destroy();
          return;
        }
        this.adopt(sock, key);
      });
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, this.address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.events.onWarn('TCP server error', err));
    }
    this.bound = true;
  }

  /**
   * Sends bytes. `onError` is called (at most once, asynchronously) when the transport reports a
   * failure: TCP connect refused/reset, UDP send error. (ICMP port unreachable is not reported
   * for unconnected UDP sockets on Linux: that case ends in a transaction timeout.)
   */
  send(buf: Buffer, to: Peer | Inbound, onError?: (err: Error) => void): void {
    const fail = (err: Error | null | undefined): void => {
      if (err && onError) onError(err);
    };
    if (this.closed) {
      if (onError) queueMicrotask(() => onError(new Error('SIP transport closed')));
      return;
    }
    if (this.protocol === 'UDP') {
      if (!this.udp) return fail(new Error('SIP transport not listening'));
      this.udp.send(buf, to.port, to.address, fail);
      return;
    }
    const inbound = 'connection' in to ? to.connection : undefined;
    const sock = inbound && !inbound.destroyed ? inbound : this.connect(to);
    sock.write(buf, fail);
  }

  private connect(to: Peer): net.Socket {
    const key = `${to.address}:${to.port}`;
    const existing = this.connections.get(key);
    if (existing && !existing.destroyed) return existing;
    const sock = net.connect({ host: to.address, port: to.port, localAddress: this.address, family: net.isIPv6(this.address) ? 6 : 4 });
    return this.adopt(sock, key);
  }

  private adopt(sock: net.Socket, key: string): net.Socket {
    this.connections.set(key, sock);
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 30_000);
    const frame = makeStreamFramer(
      (raw) => this.events.onMessage(raw, { protocol: 'TCP', address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0, connection: sock }),
      this.limits.maxMessageBytes,
    );
    if (this.limits.tcpIdleTimeoutMs > 0) {
      sock.setTimeout(this.limits.tcpIdleTimeoutMs, () => {
        this.events.onConnectionRefused?.('idle', key);
        sock.destroy();
      });
    }
    sock.on('data', (chunk: Buffer) => {
      const result = frame(chunk);
      if (result === 'ok') return;
      this.events.onConnectionRefused?.(result, key);
      if (result === 'too-large') {
        sock.destroy();
        return;
      }
      // the unframable head was answered 400 on this socket: flush it, then close (never read on)
      sock.pause();
      sock.end();
      setTimeout(() => sock.destroy(), 1000).unref();
    });
    sock.on('error', (err) => this.events.onWarn(`TCP connection ${key} error`, err));
    sock.on('close', () => {
      if (this.connections.get(key) === sock) this.connections.delete(key);
    });
    return sock;
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const sock of this.connections.values()) sock.destroy();
    this.connections.clear();
    const udp = this.udp;
    const server = this.server;
    await Promise.all([
      udp && this.bound ? new Promise<void>((r) => udp.close(() => r())) : Promise.resolve(),
      server && this.bound ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve(),
    ]);
    if (udp && !this.bound) {
      try {
        udp.close();
      } catch {
        // bind failed: nothing to close
      }
    }
  }
}

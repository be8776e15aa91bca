import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { describeTlsFailure, SipTlsContext } from './tls-context';
import { DEFAULT_MAX_MESSAGE_BYTES, makeStreamFramer } from './wire';

/** Socket buffer asked for the UDP listener (capped by the kernel). */
export const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

export type SipProtocol = 'UDP' | 'TCP' | 'TLS';

/**
 * The UDP socket's resolver: an IP literal (every destination the stack computes: outbound proxy
 * targets, Via `received`/`rport`, RFC 3263 results) is handed back at once, so a datagram is one
 * `send` syscall without a dns.lookup and an extra process.nextTick per message; a name still goes
 * through dns.lookup.
 */
export function udpLookup(host: string, options: dns.LookupOneOptions | number, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = net.isIP(host);
  if (family !== 0) return callback(null, host, family);
  dns.lookup(host, typeof options === 'number' ? { family: options } : options, callback);
}

/** TCP and TLS: connection-oriented, framed by Content-Length (RFC 3261 §18.3), reliable (§17). */
export function isStream(protocol: SipProtocol): boolean {
  return protocol !== 'UDP';
}

export interface Peer {
  address: string;
  port: number;
}

/** Where a message came from; for TCP and TLS the connection it arrived on (responses go back on it, RFC 3261 §18.2.2). */
export interface Inbound extends Peer {
  protocol: SipProtocol;
  connection?: net.Socket;
}

export interface TransportEvents {
  onMessage(raw: Buffer, from: Inbound): void;
  onWarn(message: string, err?: unknown): void;
  /** A TCP peer was refused or cut off (cap reached, idle, oversized or unframable message); logged by the stack, rate-limited. */
  onConnectionRefused?(reason: 'cap' | 'idle' | 'too-large' | 'bad-framing', peer: string): void;
  /** A peer's TLS handshake with our listener failed (logged by the stack, rate-limited). */
  onTlsClientError?(peer: string, reason: string): void;
}

/** SIP over TLS: the node:tls options, and the name each peer's certificate must carry. */
export interface TransportTls {
  context: SipTlsContext;
  /** The name a connection we open to `to` must be certified for (the proxy's configured host, else the address). */
  expectedName(to: Peer): string;
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

/** A connection we may still write to: not destroyed, and not half-closed by a peer that sent its FIN (a restart, an idle cut). */
function usable(sock: net.Socket): boolean {
  return !sock.destroyed && sock.writable;
}

export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES, tcpMaxConnections: 1024, tcpIdleTimeoutMs: 120_000 };

/**
 * Our own UDP/TCP/TLS sockets (the package's transports bind without an 'error' listener, so an
 * EADDRINUSE or a socket error would crash the process, and its UDP transport ignores send errors).
 * Exactly one listening socket per gateway instance: UDP, or TCP or TLS (server + connections), per
 * config; no stream listener is opened when the transport is UDP. Connections are reused by
 * address:port in both directions (RFC 3261 §18.1.1; RFC 5923 aliases, see `alias()`), and a
 * connection that dropped is opened again by the next message to that peer.
 */
export class SipTransport {
  private udp?: dgram.Socket;
  private server?: net.Server;
  private readonly connections = new Map<string, net.Socket>();
  /** RFC 5923: connections peers opened, by the address:port they are an alias for (not counted against the cap twice). */
  private readonly aliases = new Map<string, net.Socket>();
  /** TLS connections we opened whose handshake is not done: who to tell if it fails (a write callback is not told). */
  private readonly handshaking = new Map<net.Socket, Array<(err: Error) => void>>();
  private bound = false;
  private closed = false;

  constructor(
    readonly protocol: SipProtocol,
    private readonly address: string,
    private readonly port: number,
    private readonly events: TransportEvents,
    private readonly limits: TransportLimits = DEFAULT_TRANSPORT_LIMITS,
    private readonly tls?: TransportTls,
  ) {
    if (protocol === 'TLS' && !tls) throw new Error('SIP over TLS needs certificates (SIP_TLS_CERT_FILE, SIP_TLS_KEY_FILE)');
  }

  get listening(): boolean {
    return this.bound && !this.closed;
  }

  async listen(): Promise<void> {
    if (this.protocol === 'UDP') {
      // One socket carries every subscriber's signalling: bursts (a wave of REGISTER refreshes, a
      // call spike) overflow the kernel's default ~200 KB buffers, and every lost datagram costs a
      // T1 (500 ms) retransmission. Ask for 4 MiB; Linux caps it at net.core.[rw]mem_max.
      const socket = dgram.createSocket({ type: net.isIPv6(this.address) ? 'udp6' : 'udp4', lookup: udpLookup, reuseAddr: false, recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
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
      const accept = (sock: net.Socket): void => {
        const key = `${sock.remoteAddress ?? ''}:${sock.remotePort ?? 0}`;
        if (this.connections.size >= this.limits.tcpMaxConnections) {
          this.events.onConnectionRefused?.('cap', key);
          sock.destroy();
          return;
        }
        this.adopt(sock, key);
      };
      const server = this.tls ? tls.createServer(this.tls.context.server, accept) : net.createServer(accept);
      if (server instanceof tls.Server) {
        server.on('tlsClientError', (err, sock) => this.events.onTlsClientError?.(`${sock.remoteAddress ?? ''}:${sock.remotePort ?? 0}`, err.message));
      }
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, this.address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.events.onWarn(`${this.protocol} server error`, err));
    }
    this.bound = true;
  }

  /**
   * Sends bytes. `onError` is called (at most once, asynchronously) when the transport reports a
   * failure: TCP connect refused/reset, TLS handshake failed (certificate refused: the reason says
   * why), UDP send error. (ICMP port unreachable is not reported for unconnected UDP sockets on
   * Linux: that case ends in a transaction timeout.)
   */
  send(buf: Buffer, to: Peer | Inbound, onError?: (err: Error) => void): void {
    let told = false;
    const fail = (err: Error | null | undefined): void => {
      if (!err || !onError || told) return;
      told = true;
      onError(err);
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
    const sock = inbound && usable(inbound) ? inbound : this.connect(to);
    this.handshaking.get(sock)?.push(fail);
    sock.write(buf, fail);
  }

  /**
   * RFC 5923 §5: a request that arrived on a TLS connection with `alias` in its top Via lets us
   * send requests for its sent-by (`received` address, Via port) on that same connection, but only
   * when the peer's certificate was verified and names the sent-by host (§9: else anyone could
   * capture another host's traffic). TCP aliases are not honoured (unauthenticated, §9).
   */
  alias(from: Inbound, sentByHost: string, sentByPort: number): boolean {
    const sock = from.connection;
    if (this.protocol !== 'TLS' || !this.tls || !(sock instanceof tls.TLSSocket) || sock.destroyed) return false;
    if (!this.tls.context.certifies(sock, sentByHost)) return false;
    const key = `${from.address}:${sentByPort}`;
    const existing = this.connections.get(key) ?? this.aliases.get(key);
    if (existing === sock || (existing && usable(existing))) return existing === sock;
    this.aliases.set(key, sock);
    sock.once('close', () => {
      if (this.aliases.get(key) === sock) this.aliases.delete(key);
    });
    return true;
  }

  private connect(to: Peer): net.Socket {
    const key = `${to.address}:${to.port}`;
    const existing = [this.connections.get(key), this.aliases.get(key)].find((s) => s !== undefined && usable(s));
    if (existing) return existing;
    const family = net.isIPv6(this.address) ? 6 : 4;
    if (!this.tls) return this.adopt(net.connect({ host: to.address, port: to.port, localAddress: this.address, family }), key);
    // node:tls hands these to net.connect (its types leave the socket options out)
    const options: tls.ConnectionOptions & net.TcpNetConnectOpts = { ...this.tls.context.connect(to.address, to.port, this.tls.expectedName(to)), port: to.port, localAddress: this.address, family };
    const sock = tls.connect(options);
    // a failed handshake is an 'error' event only: the pending writes' callbacks get no error, so
    // every sender waiting on this connection is told here, with the TLS reason
    const waiting: Array<(err: Error) => void> = [];
    this.handshaking.set(sock, waiting);
    this.adopt(sock, key); // first: its 'error' listener logs while the handshake is still pending
    const settle = (err?: Error): void => {
      if (this.handshaking.get(sock) !== waiting) return;
      this.handshaking.delete(sock);
      if (err) for (const tell of waiting) tell(err);
    };
    sock.once('secureConnect', () => settle());
    sock.once('error', (err: Error) => settle(describeTlsFailure(key, err, false)));
    sock.once('close', () => settle(new Error(`TLS handshake with ${key} failed: connection closed`)));
    return sock;
  }

  private adopt(sock: net.Socket, key: string): net.Socket {
    this.connections.set(key, sock);
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 30_000);
    const frame = makeStreamFramer(
      (raw) => this.events.onMessage(raw, { protocol: this.protocol, address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0, connection: sock }),
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
    sock.on('error', (err) => this.events.onWarn(`${this.protocol} connection ${key} error`, this.tls ? describeTlsFailure(key, err, !this.handshaking.has(sock)) : err));
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
    this.aliases.clear();
    this.handshaking.clear();
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

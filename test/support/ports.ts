/**
 * Free-port allocation for test processes on 127.0.0.1.
 *
 * Ports are picked at random BELOW the kernel's ephemeral range (ip_local_port_range), so
 * that client sockets opened by the tests themselves (Redis clients, SIP UDP sockets bound
 * to port 0 ...) cannot take them between allocation and use, and are really bound once
 * (UDP and/or TCP) before being handed out. A port is never handed out twice by one process.
 */
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

export type PortKind = 'udp' | 'tcp' | 'both';

const HOST = '127.0.0.1';
const handedOut = new Set<number>();

function portRange(): { min: number; max: number } {
  let ephemeralLow = 32768;
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(low);
    if (Number.isInteger(n) && n > 0) ephemeralLow = n;
  } catch {
    /* not Linux: keep the default */
  }
  const max = Math.min(ephemeralLow - 1, 65535);
  const min = 20000;
  return max - min >= 1000 ? { min, max } : { min: 10000, max: 19999 };
}

function tryTcp(port: number): Promise<(() => Promise<void>) | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ host: HOST, port, exclusive: true }, () => resolve(() => new Promise<void>((done) => srv.close(() => done()))));
  });
}

function tryUdp(port: number): Promise<(() => Promise<void>) | null> {
  return new Promise((resolve) => {
    const sock = createSocket({ type: 'udp4', reuseAddr: false });
    sock.once('error', () => {
      try {
        sock.close();
      } catch {
        /* already closed */
      }
      resolve(null);
    });
    sock.bind({ address: HOST, port, exclusive: true }, () => resolve(() => new Promise<void>((done) => sock.close(() => done()))));
  });
}

/** true if `port` can be bound right now on 127.0.0.1 for `kind`. */
export async function isPortFree(port: number, kind: PortKind): Promise<boolean> {
  const closers: Array<() => Promise<void>> = [];
  try {
    if (kind !== 'udp') {
      const c = await tryTcp(port);
      if (!c) return false;
      closers.push(c);
    }
    if (kind !== 'tcp') {
      const c = await tryUdp(port);
      if (!c) return false;
      closers.push(c);
    }
    return true;
  } finally {
    await Promise.all(closers.map((c) => c()));
  }
}

/** A port that is free on 127.0.0.1 for UDP, TCP or both (checked by binding it). */
export async function freePort(kind: PortKind = 'both'): Promise<number> {
  const { min, max } = portRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    if (handedOut.has(port)) continue;
    if (await isPortFree(port, kind)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort(${kind}): no free port found in ${min}-${max} after 200 attempts`);
}

/** Several distinct free ports. */
export async function freePorts(count: number, kind: PortKind = 'both'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(await freePort(kind));
  return out;
}

/**
 * The floor under the gateway's CPU per call on this machine: what a Node process that does
 * nothing but answer each UDP datagram it receives (one `message` event, one `send`) spends per
 * datagram, at event rates like the call path's. A full call is about 27 I/O events at the gateway
 * (3 REST requests, ~7 SIP datagrams each way, ~11 Redis replies, 3 webhook responses), so at
 * 100 calls/s it sees ~2 700 events/s. The echo runs in a child process (`node` without
 * ts-node); its CPU is utime+stime from /proc. A C reference on the same machine: Redis' own CPU
 * per command in `npm run bench` (its `cpu%` column over the commands it served).
 *
 *   node --require ts-node/register/transpile-only bench/io-floor.ts [--seconds 4] [--rates 500,2700,10000]
 *
 * Prints µs of CPU per datagram answered, per rate. No assertions.
 */
import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { cpuSplitMs } from './lib/procfs';
import { sleep } from './lib/stats';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? String(process.argv[i + 1]) : dflt;
}

const SECONDS = Number(arg('seconds', '4'));
const RATES = arg('rates', '500,1000,2700,5000,10000').split(',').map(Number);
/** About a SIP request's size. */
const PAYLOAD = Buffer.alloc(600, 'x');

const ECHO = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(0, '127.0.0.1', () => process.send(s.address().port));
`;

async function main(): Promise<void> {
  const child = fork('-e', [ECHO], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // `fork('-e', …)` runs `node -e <script>`: the IPC channel carries the port
  const [port] = (await once(child, 'message')) as [number];
  const pid = child.pid ?? 0;
  const sock = createSocket('udp4');
  let answered = 0;
  sock.on('message', () => answered++);
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  process.stdout.write(`node ${process.version}: CPU of a Node UDP echo per datagram answered, ${SECONDS} s per rate\n`);
  for (const rate of RATES) {
    const n = Math.round(rate * SECONDS);
    answered = 0;
    const c0 = cpuSplitMs(pid);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      sock.send(PAYLOAD, port, '127.0.0.1');
      // let replies in now and then even when the schedule is behind
      if (i % 64 === 63) await new Promise((r) => setImmediate(r));
    }
    await sleep(200);
    const c1 = cpuSplitMs(pid);
    if (!c0 || !c1) throw new Error('the echo process is gone');
    const user = ((c1.userMs - c0.userMs) * 1000) / answered;
    const system = ((c1.systemMs - c0.systemMs) * 1000) / answered;
    process.stdout.write(
      `${String(rate).padStart(6)}/s: ${(user + system).toFixed(1).padStart(6)} µs per datagram (user ${user.toFixed(1)}, system ${system.toFixed(1)}), ${answered}/${n} answered\n`,
    );
  }
  sock.close();
  child.kill();
}

void main();

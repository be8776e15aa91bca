/**
 * Webhook POST micro-benchmark: CPU µs per POST of the sink transport (UndiciSinkTransport) to a
 * local HTTP sink running in a child process (so only the client's cost is measured), and the
 * TCP connections the sink saw. Prints figures only. Run:
 * `node --require ts-node/register/transpile-only bench/webhook-micro.ts [N] [concurrency]`.
 */
import { spawn } from 'node:child_process';
import { SinkPolicy } from '../src/events/sink-address';
import { UndiciSinkTransport } from '../src/events/sink-client';

const N = Number(process.argv[2] ?? 5000);
const CONCURRENCY = Number(process.argv[3] ?? 8);

const SINK = `
const http = require('node:http');
let connections = 0;
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = 204; res.end(); }); });
server.on('connection', () => connections++);
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', () => process.send({ connections }));
`;

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const transport = new UndiciSinkTransport(new SinkPolicy(true), 5000);
  const body = JSON.stringify({
    id: 'e1',
    source: '/webrtc-events/v0.3',
    type: 'org.camaraproject.webrtc-events.v0.session-status',
    data: { mediaSessionId: 'm1', status: 'Connected', sequenceNumber: 1 },
  });
  const sink = `http://127.0.0.1:${port}/events`;
  const run = async (n: number): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < n) {
          const r = await transport.post({ sink, body, correlator: 'c' });
          if (r.kind !== 'delivered') throw new Error(`not delivered: ${JSON.stringify(r)}`);
        }
      }),
    );
  };
  try {
    await run(1000); // warm-up
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await run(N);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    child.send('count');
    const { connections } = await new Promise<{ connections: number }>((resolve) => child.once('message', resolve));
    console.log(`node ${process.version}, N=${N}, concurrency ${CONCURRENCY}`);
    console.log(`client CPU ${((cpu.user + cpu.system) / N).toFixed(1)} µs/POST, ${(N / (wallMs / 1000)).toFixed(0)} POST/s, sink saw ${connections} TCP connections`);
  } finally {
    await transport.close();
    child.kill();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

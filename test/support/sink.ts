import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedEvent {
  headers: IncomingMessage['headers'];
  body: { id: string; type: string; source: string; specversion: string; time: string; datacontenttype?: string; data: Record<string, unknown> };
}

/** A local webhook sink (plain HTTP on loopback; the gateway allows it with EVENTS_ALLOW_PRIVATE_SINKS). */
export interface TestSink {
  url: string;
  events: ReceivedEvent[];
  /** HTTP status to answer with (default 204). */
  status: number;
  statuses(mediaSessionId?: string): string[];
  waitFor(pred: (e: ReceivedEvent) => boolean, timeoutMs?: number, what?: string): Promise<ReceivedEvent>;
  close(): Promise<void>;
}

export async function startSink(): Promise<TestSink> {
  const events: ReceivedEvent[] = [];
  const sink: TestSink = {
    url: '',
    events,
    status: 204,
    statuses: (id) => events.filter((e) => e.body.type.endsWith('session-status') && (id === undefined || e.body.data.mediaSessionId === id)).map((e) => String(e.body.data.status)),
    async waitFor(pred, timeoutMs = 10_000, what = 'event') {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (Date.now() > until)
          throw new Error(
            `sink: timed out waiting for ${what}; got ${events.map((e) => `${e.body.type.split('.').pop()}:${typeof e.body.data.status === 'string' ? e.body.data.status : ''}`).join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      if (sink.status < 300) {
        try {
          events.push({ headers: req.headers, body: JSON.parse(raw) as ReceivedEvent['body'] });
        } catch {
          /* not JSON: not recorded */
        }
      }
      res.statusCode = sink.status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  return sink;
}

/**
 * The browser demo's small web server. It is an *app developer's* backend, not part of the
 * gateway: it serves the static page (public/), passes the page's CAMARA API calls through to the
 * gateway (same origin, so no CORS), and relays the gateway's webhooks to the page:
 *
 *   gateway ──POST /relay/<channel> (CloudEvent)──▶ demo server ──SSE /relay/<channel>/events──▶ page
 *
 * In the lab (`npm run lab`, the Chromium tests) it also hands the page tokens for the lab numbers
 * (GET /lab/identities): a lab convenience that a real app replaces with its own login.
 * Everything listens on 127.0.0.1.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

const PUBLIC_DIR = join(__dirname, 'public');
const API_PREFIXES = ['/webrtc-registration/', '/webrtc-call-handling/', '/webrtc-events/'];
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png' };
const CHANNEL = /^[A-Za-z0-9-]{8,64}$/;
const MAX_BODY = 256 * 1024;

export interface DemoIdentity {
  /** E.164 number, e.g. +17085852753 */
  number: string;
  /** bearer token for that number (lab only) */
  token: string;
  /** a label shown in the page, e.g. "browser" or "SIP phone (baresip, echo)" */
  label?: string;
}

export interface DemoServerOptions {
  /** http://127.0.0.1:PORT of the gateway's REST API */
  gatewayBase: string;
  /** lab identities offered to the page; empty = the page asks for a token */
  identities?: DemoIdentity[];
  /** numbers worth calling, shown as shortcuts (e.g. the SIP phone) */
  callees?: Array<{ number: string; label: string }>;
  port?: number;
}

export interface DemoServer {
  /** http://127.0.0.1:PORT */
  readonly base: string;
  /** the page: base + /demo/ */
  readonly url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body = '', type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

export async function startDemoServer(opts: DemoServerOptions): Promise<DemoServer> {
  /** SSE clients per channel (one channel per page) */
  const channels = new Map<string, Set<ServerResponse>>();

  const serveStatic = (path: string, res: ServerResponse): void => {
    const rel = normalize(path.replace(/^\/demo\/?/, '') || 'index.html');
    const file = join(PUBLIC_DIR, rel);
    if (!file.startsWith(PUBLIC_DIR) || !existsSync(file) || !statSync(file).isFile()) return send(res, 404, 'not found');
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    });
    createReadStream(file).pipe(res);
  };

  const proxy = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'registrationid', 'x-correlator']) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const body = req.method === 'GET' || req.method === 'DELETE' ? undefined : await readBody(req);
    const upstream = await fetch(`${opts.gatewayBase}${req.url ?? '/'}`, { method: req.method, headers, ...(body && body.length > 0 && { body }) });
    const text = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' });
    res.end(text);
  };

  const relayIn = async (channel: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = (await readBody(req)).toString('utf8');
    try {
      JSON.parse(body);
    } catch {
      return send(res, 400, 'not JSON');
    }
    for (const client of channels.get(channel) ?? []) client.write(`data: ${body.replace(/\n/g, ' ')}\n\n`);
    send(res, 204);
  };

  const relayOut = (channel: string, req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': relay open\n\n');
    let set = channels.get(channel);
    if (!set) channels.set(channel, (set = new Set()));
    set.add(res);
    const ping = setInterval(() => res.write(': ping\n\n'), 15000);
    req.on('close', () => {
      clearInterval(ping);
      set.delete(res);
      if (set.size === 0) channels.delete(channel);
    });
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const relay = /^\/relay\/([^/]+)(\/events)?$/.exec(path);
    const handle = async (): Promise<void> => {
      if (path === '/' || path === '/demo') {
        res.writeHead(302, { location: '/demo/' });
        return void res.end();
      }
      if (path.startsWith('/demo/') && req.method === 'GET') return serveStatic(path, res);
      if (path === '/lab/identities' && req.method === 'GET') {
        return send(res, 200, JSON.stringify({ identities: opts.identities ?? [], callees: opts.callees ?? [] }), 'application/json');
      }
      if (relay && CHANNEL.test(relay[1] ?? '')) {
        const channel = relay[1] ?? '';
        if (relay[2] && req.method === 'GET') return relayOut(channel, req, res);
        if (!relay[2] && req.method === 'POST') return relayIn(channel, req, res);
      }
      if (API_PREFIXES.some((p) => path.startsWith(p))) return proxy(req, res);
      send(res, 404, 'not found');
    };
    handle().catch(() => {
      if (!res.headersSent) send(res, 502, 'demo server: upstream error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    url: `${base}/demo/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const set of channels.values()) for (const c of set) c.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

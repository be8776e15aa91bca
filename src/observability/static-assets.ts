import { readFile } from 'node:fs/promises';
import type { FastifyReply } from 'fastify';

/**
 * Files served from node_modules (uPlot, Swagger UI): deployments are air-gapped, so nothing is
 * loaded from a CDN. Each file is read once, on first request, and kept in memory (a few hundred KB).
 */
export class VendorAssets {
  private readonly cache = new Map<string, Promise<Buffer>>();

  constructor(private readonly files: Readonly<Record<string, { module: string; type: string }>>) {}

  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.files, name);
  }

  /** Sends `name` (one of the names given to the constructor) or answers false. */
  async send(reply: FastifyReply, name: string): Promise<boolean> {
    const file = this.has(name) ? this.files[name] : undefined;
    if (!file) return false;
    let body = this.cache.get(name);
    if (!body) {
      body = readFile(require.resolve(file.module));
      body.catch(() => this.cache.delete(name));
      this.cache.set(name, body);
    }
    const bytes = await body;
    void reply.header('content-type', file.type).header('cache-control', 'public, max-age=86400').header('x-content-type-options', 'nosniff');
    void reply.send(bytes);
    return true;
  }
}

/** Headers of our own HTML pages: no framing, no third-party anything. */
export function securePageHeaders(reply: FastifyReply, csp: string): void {
  void reply
    .header('content-security-policy', csp)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store');
}

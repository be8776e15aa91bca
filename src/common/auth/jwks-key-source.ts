import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, createRemoteJWKSet, JSONWebKeySet, JWTVerifyGetKey } from 'jose';

/**
 * Where token signing keys come from: a JWKS at `file://` (re-read when the file changes) or
 * `http(s)://` (jose caches it and refetches on an unknown `kid`, at most every 30 s).
 */
export function jwksKeySource(url: string): JWTVerifyGetKey {
  if (url.startsWith('file://')) {
    const path = fileURLToPath(url);
    let cached: { mtimeMs: number; getKey: JWTVerifyGetKey } | undefined;
    let checkedAt = 0;
    return async (header, token) => {
      const now = Date.now();
      if (!cached || now - checkedAt > 5000) {
        checkedAt = now;
        const { mtimeMs } = await stat(path);
        if (!cached || cached.mtimeMs !== mtimeMs) {
          const jwks = JSON.parse(await readFile(path, 'utf8')) as JSONWebKeySet;
          cached = { mtimeMs, getKey: createLocalJWKSet(jwks) };
        }
      }
      return cached.getKey(header, token);
    };
  }
  return createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5000 });
}

/**
 * Test identity provider: ES256 + RS256 signing keys, the public JWKS written to a file
 * (file:// URL for AUTH_JWKS_URL), and token factories for good and bad tokens.
 *
 *   const idp = await createTestIdp();
 *   const token = await idp.token({ phone_number: '+17085852753', scope: 'webrtc-events:read' });
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload, type KeyLike } from 'jose';
import { makeLabDir } from './proc';

export interface TestTokenClaims {
  phone_number?: string;
  scope?: string;
  sub?: string;
  /** "5m", "1h" ... or seconds from now (negative = already expired); null: no `exp` claim. Default "5m". */
  expiresIn?: string | number | null;
  /** override the issuer / audience (e.g. to test rejection) */
  iss?: string;
  aud?: string | string[];
  /** not-before, seconds from now */
  notBeforeIn?: number;
  /** signing key: 'ES256' (default) or 'RS256' */
  alg?: 'ES256' | 'RS256';
  /** override the kid header */
  kid?: string;
  /** any other claims */
  extra?: Record<string, unknown>;
}

export interface TestIdp {
  /** file holding the public JWKS ({"keys":[ES256, RS256]}) */
  readonly jwksPath: string;
  /** file:// URL of jwksPath */
  readonly jwksUrl: string;
  readonly jwks: { keys: JWK[] };
  readonly issuer: string;
  readonly audience: string;
  readonly kids: { ES256: string; RS256: string };
  /** a valid token signed with a key in the JWKS */
  token(claims?: TestTokenClaims): Promise<string>;
  /** same claims and kid, but signed by an ES256 key that is NOT in the JWKS */
  tokenSignedByOtherKey(claims?: TestTokenClaims): Promise<string>;
  /** HS256 token (alg-confusion attempt), secret = `secret` or random; kid of the ES256 key */
  hs256Token(claims?: TestTokenClaims, secret?: string): Promise<string>;
  /** alg "none" token */
  unsignedToken(claims?: TestTokenClaims): string;
}

interface SigningKey {
  alg: 'ES256' | 'RS256' | 'HS256';
  kid: string;
  key: KeyLike | Uint8Array;
}

function payloadOf(claims: TestTokenClaims): JWTPayload {
  const p: JWTPayload = { ...(claims.extra ?? {}) };
  if (claims.phone_number !== undefined) p['phone_number'] = claims.phone_number;
  if (claims.scope !== undefined) p['scope'] = claims.scope;
  return p;
}

async function sign(claims: TestTokenClaims, key: SigningKey, issuer: string, audience: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(payloadOf(claims))
    .setProtectedHeader({ alg: key.alg, kid: claims.kid ?? key.kid, typ: 'JWT' })
    .setIssuer(claims.iss ?? issuer)
    .setAudience(claims.aud ?? audience)
    .setIssuedAt(now)
    .setJti(randomBytes(8).toString('hex'));
  const sub = claims.sub ?? claims.phone_number;
  if (sub !== undefined) jwt.setSubject(sub);
  const exp = claims.expiresIn === undefined ? '5m' : claims.expiresIn;
  if (exp !== null) jwt.setExpirationTime(typeof exp === 'number' ? now + exp : exp);
  if (claims.notBeforeIn !== undefined) jwt.setNotBefore(now + claims.notBeforeIn);
  return jwt.sign(key.key);
}

export async function createTestIdp(opts: { issuer?: string; audience?: string; dir?: string } = {}): Promise<TestIdp> {
  const issuer = opts.issuer ?? 'https://idp.test.lab';
  const audience = opts.audience ?? 'camara-webrtc-gateway';
  const es = await generateKeyPair('ES256', { extractable: true });
  const rs = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const other = await generateKeyPair('ES256');
  const esKid = `es256-${randomBytes(4).toString('hex')}`;
  const rsKid = `rs256-${randomBytes(4).toString('hex')}`;
  const esJwk: JWK = { ...(await exportJWK(es.publicKey)), kid: esKid, alg: 'ES256', use: 'sig' };
  const rsJwk: JWK = { ...(await exportJWK(rs.publicKey)), kid: rsKid, alg: 'RS256', use: 'sig' };
  const jwks = { keys: [esJwk, rsJwk] };
  const dir = opts.dir ?? makeLabDir('idp');
  const jwksPath = join(dir, 'jwks.json');
  writeFileSync(jwksPath, JSON.stringify(jwks, null, 2));

  const keys: Record<'ES256' | 'RS256', SigningKey> = {
    ES256: { alg: 'ES256', kid: esKid, key: es.privateKey },
    RS256: { alg: 'RS256', kid: rsKid, key: rs.privateKey },
  };

  return {
    jwksPath,
    jwksUrl: pathToFileURL(jwksPath).href,
    jwks,
    issuer,
    audience,
    kids: { ES256: esKid, RS256: rsKid },
    token: (claims = {}) => sign(claims, keys[claims.alg ?? 'ES256'], issuer, audience),
    tokenSignedByOtherKey: (claims = {}) => sign(claims, { alg: 'ES256', kid: esKid, key: other.privateKey }, issuer, audience),
    hs256Token: (claims = {}, secret?: string) => sign(claims, { alg: 'HS256', kid: esKid, key: new TextEncoder().encode(secret ?? randomBytes(32).toString('hex')) }, issuer, audience),
    unsignedToken(claims = {}): string {
      const now = Math.floor(Date.now() / 1000);
      const jwt = new UnsecuredJWT(payloadOf(claims))
        .setIssuer(claims.iss ?? issuer)
        .setAudience(claims.aud ?? audience)
        .setIssuedAt(now);
      const sub = claims.sub ?? claims.phone_number;
      if (sub !== undefined) jwt.setSubject(sub);
      const exp = claims.expiresIn === undefined ? '5m' : claims.expiresIn;
      if (exp !== null) jwt.setExpirationTime(typeof exp === 'number' ? now + exp : exp);
      return jwt.encode();
    },
  };
}

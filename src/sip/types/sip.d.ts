/**
 * Our own typings for the parts of kirm's `sip` 0.0.6 (and `sip/digest`) we use. The package ships
 * none. Only what `src/sip/` touches is declared; everything else stays invisible on purpose.
 *
 * Wire-level notes (why our layer wraps these functions, see wire.ts):
 *  - `parse` reads the datagram as latin1 ('binary') and `stringify` sets Content-Length to
 *    `content.length` in characters, so bodies must be byte strings (one char per byte).
 *  - header values that have no dedicated parser are plain strings (repeated headers joined by ',').
 */
declare module 'sip' {
  export interface SipUri {
    schema: string;
    user?: string;
    password?: string;
    host: string;
    /** NaN when absent (the parser does `+undefined`). */
    port?: number;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }

  /** name-addr / addr-spec as the package parses it: `name` is raw (quotes included). */
  export interface SipAor {
    name?: string;
    uri: string;
    params: Record<string, string | null>;
  }

  /** Route / Record-Route entries: parsed into a SipUri on receipt (undefined when unparsable); a string is accepted when sending. */
  export interface SipAorWithUri {
    name?: string;
    uri: SipUri | string | undefined;
    params: Record<string, string | null>;
  }

  export interface SipVia {
    version?: string;
    protocol: string;
    host: string;
    port?: number;
    params: Record<string, string | null | number>;
  }

  export interface SipCSeq {
    seq: number;
    method: string;
  }

  /** Digest challenge / credentials: `scheme` plus raw (possibly quoted) parameters. */
  export interface SipAuthHeader {
    scheme: string;
    [param: string]: string | undefined;
  }

  /** Headers of a parsed message; names are lower-case, compact forms expanded. */
  export interface SipHeaders {
    via?: SipVia[];
    to?: SipAor;
    from?: SipAor;
    'call-id'?: string;
    cseq?: SipCSeq;
    contact?: SipAor[] | '*';
    route?: SipAorWithUri[];
    'record-route'?: SipAorWithUri[];
    'content-length'?: number;
    'www-authenticate'?: SipAuthHeader[];
    'proxy-authenticate'?: SipAuthHeader[];
    authorization?: SipAuthHeader[];
    'proxy-authorization'?: SipAuthHeader[];
    [name: string]: unknown;
  }

  export interface SipMessage {
    method?: string;
    uri?: string | SipUri;
    status?: number;
    reason?: string;
    version?: string;
    headers: SipHeaders;
    content?: string;
  }

  export interface SipRemote {
    protocol: string;
    address: string;
    port: number;
  }

  export function parse(data: string | Buffer): SipMessage | undefined;
  export function stringify(message: SipMessage): string;
  export function parseUri(uri: string | SipUri): SipUri | undefined;
  export function stringifyUri(uri: string | SipUri): string;
  export function stringifyAuthHeader(header: SipAuthHeader): string;
  export function makeResponse(request: SipMessage, status: number, reason?: string, extension?: { headers?: SipHeaders; content?: string }): SipMessage;
  export function copyMessage(message: SipMessage, deep?: boolean): SipMessage;

  export interface SipStackOptions {
    address?: string;
    port?: number;
    publicAddress?: string;
    udp?: boolean;
    tcp?: boolean;
    logger?: { send?: (m: SipMessage, target: SipRemote) => void; recv?: (m: SipMessage, remote: SipRemote) => void; error?: (e: unknown) => void };
  }
  export interface SipStack {
    send(message: SipMessage, callback?: (response: SipMessage) => void): void;
    destroy(): void;
    hostname(): string;
  }
  /** The package's own stack (transport + transactions). Not used by the gateway: see sip-stack.ts for why. */
  export function create(options: SipStackOptions, onRequest: (request: SipMessage, remote: SipRemote) => void): SipStack;
}

declare module 'sip/digest' {
  import type { SipMessage } from 'sip';

  /** Client digest context (RFC 2617), mutated by `signRequest`. */
  export interface DigestClientContext {
    /** Preferred qop list, e.g. 'auth' or 'auth,auth-int'. */
    qop?: string;
    realm?: string;
    nonce?: string;
    nc?: number;
    cnonce?: string;
    proxy?: boolean;
    [key: string]: unknown;
  }

  export interface DigestCredentials {
    user: string;
    password: string;
    realm?: string;
  }

  /**
   * Adds Authorization (or Proxy-Authorization after a 407) to `request`, answering the challenge
   * in `response`. Throws (TypeError) when the response carries no usable challenge.
   */
  export function signRequest(ctx: DigestClientContext | null | undefined, request: SipMessage, response?: SipMessage, credentials?: DigestCredentials): DigestClientContext | null;
  export function calculateDigest(ctx: Record<string, unknown>): string;
  export function kd(...parts: string[]): string;
}

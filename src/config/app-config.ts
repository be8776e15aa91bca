import { isIP } from 'node:net';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { EnvSchema } from './env.schema';
import { Secret } from './secret';
import { RedisTopology, redisTopology } from './redis-topology';
import { loadSipTls, SipTlsMaterial } from './sip-tls';

/** The gateway's configuration: validated once at boot, frozen, and injected by this class as token. */
export abstract class AppConfig {
  abstract readonly http: {
    port: number;
    host: string;
    /** Time a client has to send its request headers, and its whole request (body included). */
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** Open connections beyond this are closed at once. */
    maxConnections: number;
    /** JSON bodies nested deeper are refused with 400 before they are parsed. */
    maxJsonDepth: number;
  };
  abstract readonly logLevel: string;
  /** `onUnreachable`: what a Redis unreachable at boot does (exit, or keep retrying with readiness false). */
  abstract readonly store: { kind: 'memory' } | { kind: 'redis'; topology: RedisTopology; keyPrefix: string; onUnreachable: 'exit' | 'retry' };
  abstract readonly auth: { jwksUrl: string | undefined; issuer: string | undefined; audience: string | undefined; maxTokenLifetimeS: number };
  /** Request rates (per window) and per-subscriber quotas; 0 turns one off. */
  abstract readonly limits: {
    perToken: number;
    perAddress: number;
    windowS: number;
    registrationsPerNumber: number;
    sessionsPerNumber: number;
    subscriptionsPerDevice: number;
  };
  /** SIGTERM: the process exits within this time whatever is still pending. */
  abstract readonly shutdown: { timeoutMs: number };
  /** Several instances on one Redis: lease of an instance (heartbeat every third) and how long a forwarded request waits for its owner. */
  abstract readonly cluster: { leaseMs: number; forwardTimeoutMs: number };
  abstract readonly sip: {
    /** e.g. `sip:127.0.0.1:5060;transport=udp`: every request goes there (the P-CSCF). */
    outboundProxy: string;
    domain: string;
    listenAddress: string;
    listenPort: number;
    /** Host written in Via/Contact; must differ from the proxy host (the `sip` stack drops a Route equal to its own host). */
    advertisedAddress: string;
    transport: 'udp' | 'tcp' | 'tls';
    /** Certificates and keys of `SIP_TRANSPORT=tls` (config/sip-tls.ts); undefined for udp and tcp. */
    tls: SipTlsMaterial | undefined;
    credentialsFile: string | undefined;
    ringTimeoutMs: number;
    /** Expires asked of the registrar in each REGISTER; the binding is refreshed before what it grants. */
    registerExpiresS: number;
    /** Timer B / Timer F (RFC 3261 §17: 64*T1 = 32 s): how long a request may go unanswered. */
    transactionTimeoutMs: number;
    /** RFC 3261 §17.1.1.1 T1 (`SIP_T1_MS`, 500 ms): retransmissions, 64·T1 waits (lost ACK, PRACK, glare). */
    t1Ms: number;
    /** RFC 3262 reliable provisional responses (`SIP_100REL`): offered, insisted on, or never used. */
    rel100: 'supported' | 'required' | 'disabled';
    /** `SIP_IMS_PROFILE`: `ims` registers and calls as an MMTel client (3GPP TS 24.229); `plain` as a bare SIP phone. */
    imsProfile: 'ims' | 'plain';
    /** RFC 4028 session interval our INVITEs ask for (`SIP_SESSION_EXPIRES_S`; 0: none asked, only the far end's honoured). */
    sessionExpiresS: number;
    /** RFC 3261 §22.1: seconds a challenge's nonce signs the subscriber's next requests pre-emptively (`SIP_PREEMPTIVE_AUTH_MAX_AGE_S`; 0: off). */
    preemptiveAuthMaxAgeS: number;
    /** RFC 4028 Min-SE: the smallest interval we accept (`SIP_MIN_SE_S`, ≥ `SIP_MIN_SE_FLOOR_S`, 90 by default). */
    minSeS: number;
    /** RFC 3325 trust domain (`SIP_TRUSTED_PEERS`); empty: the address and port the outbound proxy resolves to. */
    trustedPeers: readonly string[];
    /** What an untrusted request gets: 403 (`reject`) or nothing (`drop`). */
    untrustedPolicy: 'reject' | 'drop';
    /** Largest SIP message accepted, UDP or TCP (bytes). */
    maxMessageBytes: number;
    tcpMaxConnections: number;
    /** A SIP/TCP connection silent this long is closed (0: never). */
    tcpIdleTimeoutMs: number;
    /** DNS servers for RFC 3263 (`SIP_DNS_SERVERS`: `ip`, `ip:port`, `[ipv6]:port`); empty: the system's. */
    dnsServers: readonly string[];
    /** OPTIONS to every outbound target this often; a down target is used again once it answers (`SIP_PROXY_PROBE_INTERVAL_MS`). */
    targetProbeIntervalMs: number;
    /** A target that timed out or failed the transport is skipped at least this long (`SIP_PROXY_HOLD_DOWN_MS`). */
    targetHoldDownMs: number;
  };
  abstract readonly registration: { minTtlS: number; maxTtlS: number; defaultTtlS: number };
  abstract readonly sessions: { retentionS: number };
  /**
   * `dnsServers` (`EVENTS_DNS_SERVERS`): where sink names are resolved; empty: the system's resolver (`getaddrinfo`, /etc/hosts).
   * `deliveryConcurrency` (`EVENTS_DELIVERY_CONCURRENCY`): subscriptions delivered to at the same time;
   * `sinkConnections` (`EVENTS_SINK_CONNECTIONS`): connections per sink origin at most.
   */
  abstract readonly events: { allowPrivateSinks: boolean; maxAttempts: number; dnsServers: readonly string[]; deliveryConcurrency: number; sinkConnections: number };
  abstract readonly emergency: { enabled: boolean; numbers: readonly string[]; identityHeader: 'P-Asserted-Identity' | 'P-Preferred-Identity' };
  abstract readonly sdp: { profile: 'passthrough' | 'ims' };
  abstract readonly admin: { token: Secret | undefined };
}

export class ConfigError extends Error {}

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`));
}

/** SIP_TRUSTED_PEERS entries: `host`, `host:port`, bare IPv6 or `[IPv6]:port`; bad ones reported. */
function trustedPeers(value: string | undefined, problems: string[]): string[] {
  const entries = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const entry of entries) {
    if (isIP(entry) || /^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/.test(entry) || /^[A-Za-z0-9.-]{1,253}(?::\d{1,5})?$/.test(entry)) continue;
    problems.push(`SIP_TRUSTED_PEERS: ${JSON.stringify(entry)} is not host or host:port`);
  }
  return entries;
}

/** SIP_DNS_SERVERS / EVENTS_DNS_SERVERS entries: an IP address with an optional port (`[IPv6]:port`); bad ones reported. */
function dnsServers(entries: readonly string[], problems: string[], name = 'SIP_DNS_SERVERS'): readonly string[] {
  for (const entry of entries) {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d+\.\d+\.\d+\.\d+))(?::(\d{1,5}))?$/.exec(entry);
    const port = m?.[3] === undefined ? 1 : Number(m[3]);
    if (isIP(entry) || (m && isIP(m[1] ?? m[2] ?? '') && port >= 1 && port <= 65535)) continue;
    problems.push(`${name}: ${JSON.stringify(entry)} is not ip, ip:port or [ipv6]:port`);
  }
  return entries;
}

/** Reads `env` (default `process.env`), reports every bad variable at once, returns a frozen AppConfig. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(new EnvSchema()).concat(Object.keys(env))) {
    const v = env[key];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  const e = plainToInstance(EnvSchema, raw);
  const problems = describe(validateSync(e, { forbidUnknownValues: false }));
  const minTtl = e.REGISTRATION_MIN_TTL_S ?? 60;
  const maxTtl = e.REGISTRATION_MAX_TTL_S ?? 86400;
  const defTtl = e.REGISTRATION_DEFAULT_TTL_S ?? 3600;
  if (minTtl > maxTtl) problems.push('REGISTRATION_MIN_TTL_S: must not exceed REGISTRATION_MAX_TTL_S');
  if (defTtl < minTtl || defTtl > maxTtl) problems.push('REGISTRATION_DEFAULT_TTL_S: must lie between the minimum and maximum TTL');
  const sipTrustedPeers = trustedPeers(e.SIP_TRUSTED_PEERS, problems);
  const sipTls = loadSipTls(e, problems);
  const sipDnsServers = dnsServers(e.SIP_DNS_SERVERS ?? [], problems);
  const eventsDnsServers = dnsServers(e.EVENTS_DNS_SERVERS ?? [], problems, 'EVENTS_DNS_SERVERS');
  const redis = redisTopology(e, problems);
  const minSeFloor = e.SIP_MIN_SE_FLOOR_S ?? 90;
  const minSe = e.SIP_MIN_SE_S ?? minSeFloor;
  if (minSe < minSeFloor) problems.push(`SIP_MIN_SE_S: must be at least SIP_MIN_SE_FLOOR_S (${minSeFloor}; RFC 4028 §4: 90)`);
  const t1 = e.SIP_T1_MS ?? 500;
  const sessionExpires = e.SIP_SESSION_EXPIRES_S ?? 1800;
  if (sessionExpires !== 0 && sessionExpires < minSe) problems.push('SIP_SESSION_EXPIRES_S: must be 0 or at least SIP_MIN_SE_S (RFC 4028 §4)');
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);

  const listenAddress = e.SIP_LISTEN_ADDRESS ?? '127.0.0.1';
  const deliveryConcurrency = e.EVENTS_DELIVERY_CONCURRENCY ?? 64;
  const config: AppConfig = {
    http: {
      port: e.PORT ?? 8080,
      host: e.HOST ?? '0.0.0.0',
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS ?? 10_000,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS ?? 30_000,
      keepAliveTimeoutMs: e.HTTP_KEEPALIVE_TIMEOUT_MS ?? 72_000,
      maxConnections: e.HTTP_MAX_CONNECTIONS ?? 10_000,
      maxJsonDepth: e.HTTP_MAX_JSON_DEPTH ?? 64,
    },
    logLevel: e.LOG_LEVEL ?? 'info',
    store: redis ? { kind: 'redis', topology: redis, keyPrefix: e.REDIS_KEY_PREFIX ?? 'gw:', onUnreachable: e.REDIS_BOOT ?? 'exit' } : { kind: 'memory' },
    auth: { jwksUrl: e.AUTH_JWKS_URL, issuer: e.AUTH_ISSUER, audience: e.AUTH_AUDIENCE, maxTokenLifetimeS: e.AUTH_MAX_TOKEN_LIFETIME_S ?? 86_400 },
    limits: {
      perToken: e.RATE_LIMIT_PER_TOKEN ?? 600,
      perAddress: e.RATE_LIMIT_PER_ADDRESS ?? 1200,
      windowS: e.RATE_LIMIT_WINDOW_S ?? 60,
      registrationsPerNumber: e.QUOTA_REGISTRATIONS_PER_NUMBER ?? 10,
      sessionsPerNumber: e.QUOTA_SESSIONS_PER_NUMBER ?? 20,
      subscriptionsPerDevice: e.QUOTA_SUBSCRIPTIONS_PER_DEVICE ?? 20,
    },
    shutdown: { timeoutMs: e.SHUTDOWN_TIMEOUT_MS ?? 8_000 },
    cluster: { leaseMs: e.CLUSTER_LEASE_MS ?? 5_000, forwardTimeoutMs: e.CLUSTER_FORWARD_TIMEOUT_MS ?? 10_000 },
    sip: {
      outboundProxy: e.SIP_OUTBOUND_PROXY ?? 'sip:127.0.0.1:5060;transport=udp',
      domain: e.SIP_DOMAIN ?? 'ims.lab',
      listenAddress,
      listenPort: e.SIP_LISTEN_PORT ?? 5070,
      advertisedAddress: e.SIP_ADVERTISED_ADDRESS ?? listenAddress,
      transport: e.SIP_TRANSPORT ?? 'udp',
      tls: sipTls,
      credentialsFile: e.SIP_CREDENTIALS_FILE,
      ringTimeoutMs: e.SIP_RING_TIMEOUT_MS ?? 60000,
      registerExpiresS: e.SIP_REGISTER_EXPIRES_S ?? 600,
      // RFC 3261 §17.1.1.2: Timer B = 64·T1
      transactionTimeoutMs: e.SIP_TRANSACTION_TIMEOUT_MS ?? 64 * t1,
      t1Ms: t1,
      rel100: e.SIP_100REL ?? 'supported',
      imsProfile: e.SIP_IMS_PROFILE ?? 'ims',
      sessionExpiresS: sessionExpires,
      minSeS: minSe,
      // Kamailio's and OpenSIPS' default nonce lifetime is 300 s: a nonce is dropped before the core calls it stale
      preemptiveAuthMaxAgeS: e.SIP_PREEMPTIVE_AUTH_MAX_AGE_S ?? 240,
      trustedPeers: sipTrustedPeers,
      untrustedPolicy: e.SIP_UNTRUSTED_POLICY ?? 'reject',
      maxMessageBytes: e.SIP_MAX_MESSAGE_BYTES ?? 65535,
      tcpMaxConnections: e.SIP_TCP_MAX_CONNECTIONS ?? 1024,
      tcpIdleTimeoutMs: e.SIP_TCP_IDLE_TIMEOUT_MS ?? 120_000,
      dnsServers: sipDnsServers,
      targetProbeIntervalMs: e.SIP_PROXY_PROBE_INTERVAL_MS ?? 10_000,
      targetHoldDownMs: e.SIP_PROXY_HOLD_DOWN_MS ?? 30_000,
    },
    registration: { minTtlS: minTtl, maxTtlS: maxTtl, defaultTtlS: defTtl },
    sessions: { retentionS: e.SESSION_RETENTION_S ?? 300 },
    events: {
      allowPrivateSinks: e.EVENTS_ALLOW_PRIVATE_SINKS ?? false,
      maxAttempts: e.EVENTS_MAX_ATTEMPTS ?? 6,
      dnsServers: eventsDnsServers,
      deliveryConcurrency,
      // more connections to one origin than concurrent deliveries are never used; fewer cap an app whose subscriptions share one backend
      sinkConnections: e.EVENTS_SINK_CONNECTIONS ?? deliveryConcurrency,
    },
    emergency: {
      enabled: e.EMERGENCY_CALLS === 'enabled',
      numbers: e.EMERGENCY_NUMBERS ?? ['112', '911'],
      identityHeader: e.EMERGENCY_IDENTITY_HEADER === 'p-preferred-identity' ? 'P-Preferred-Identity' : 'P-Asserted-Identity',
    },
    sdp: { profile: e.SDP_PROFILE ?? 'passthrough' },
    admin: { token: e.ADMIN_TOKEN ? new Secret(e.ADMIN_TOKEN) : undefined },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !(o instanceof Secret)) {
    for (const v of Object.values(o) as unknown[]) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

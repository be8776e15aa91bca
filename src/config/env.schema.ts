import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsIP, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';

import { LimitsEnv } from './env-limits.schema';
import { toBool, toInt, toList } from './env-transforms';

/**
 * The raw environment, by variable name. Every variable is optional: the defaults (see `loadConfig`)
 * start the gateway with nothing set (in-memory store, loopback SIP).
 */
export class EnvSchema extends LimitsEnv {
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  @IsOptional()
  @IsString()
  HOST?: string;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Redis Cluster / Sentinel instead of REDIS_URL: validated together in `redisTopology` (redis-topology.ts). */
  @IsOptional()
  @IsString()
  REDIS_CLUSTER_NODES?: string;

  @IsOptional()
  @IsString()
  REDIS_SENTINELS?: string;

  @IsOptional()
  @IsString()
  REDIS_SENTINEL_NAME?: string;

  @IsOptional()
  @IsString()
  REDIS_PASSWORD?: string;

  @IsOptional()
  @IsString()
  REDIS_SENTINEL_PASSWORD?: string;

  @IsOptional()
  @Matches(/^[0-5]$/, { message: 'REDIS_WRITE_REPLICAS must be an integer from 0 to 5' })
  REDIS_WRITE_REPLICAS?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9:_-]{1,64}$/, { message: 'REDIS_KEY_PREFIX must be 1-64 characters of [A-Za-z0-9:_-]' })
  REDIS_KEY_PREFIX?: string;

  @IsOptional()
  @Matches(/^(file:\/\/|https?:\/\/)\S+$/, { message: 'AUTH_JWKS_URL must be a file://, http:// or https:// URL' })
  AUTH_JWKS_URL?: string;

  @IsOptional()
  @IsString()
  AUTH_ISSUER?: string;

  @IsOptional()
  @IsString()
  AUTH_AUDIENCE?: string;

  @IsOptional()
  @Matches(/^sips?:[^\s]+$/, { message: 'SIP_OUTBOUND_PROXY must be a SIP URI, e.g. sip:127.0.0.1:5060;transport=udp' })
  SIP_OUTBOUND_PROXY?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9.-]{1,253}$/, { message: 'SIP_DOMAIN must be a host name' })
  SIP_DOMAIN?: string;

  @IsOptional()
  @IsIP(undefined, { message: 'SIP_LISTEN_ADDRESS must be an IPv4 or IPv6 address' })
  SIP_LISTEN_ADDRESS?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  SIP_LISTEN_PORT?: number;

  @IsOptional()
  @Matches(/^(?:[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45})$/, { message: 'SIP_ADVERTISED_ADDRESS must be a host name, IPv4 or IPv6 address (no brackets)' })
  SIP_ADVERTISED_ADDRESS?: string;

  /** RFC 3325 trust domain: `host` or `host:port` entries (IPv6 bare or `[addr]:port`), comma-separated. */
  @IsOptional()
  @Matches(/^[\][0-9A-Za-z.:,\s-]+$/, { message: 'SIP_TRUSTED_PEERS must be a comma-separated list of host or host:port ([IPv6]:port)' })
  SIP_TRUSTED_PEERS?: string;

  @IsOptional()
  @IsIn(['reject', 'drop'], { message: 'SIP_UNTRUSTED_POLICY must be reject (403) or drop' })
  SIP_UNTRUSTED_POLICY?: 'reject' | 'drop';

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(4096)
  @Max(1048576)
  SIP_MAX_MESSAGE_BYTES?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  SIP_TCP_MAX_CONNECTIONS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3600000)
  SIP_TCP_IDLE_TIMEOUT_MS?: number;

  /** RFC 3263 DNS servers: `ip`, `ip:port` or `[ipv6]:port`, comma-separated (checked in loadConfig). */
  @IsOptional()
  @Transform(toList)
  @IsString({ each: true })
  SIP_DNS_SERVERS?: string[];

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3600000)
  SIP_PROXY_PROBE_INTERVAL_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3600000)
  SIP_PROXY_HOLD_DOWN_MS?: number;

  @IsOptional()
  @IsIn(['udp', 'tcp', 'tls'])
  SIP_TRANSPORT?: 'udp' | 'tcp' | 'tls';

  // SIP over TLS (SIP_TRANSPORT=tls): PEM files, read and checked at boot (config/sip-tls.ts).
  @IsOptional()
  @IsString()
  SIP_TLS_CERT_FILE?: string;

  @IsOptional()
  @IsString()
  SIP_TLS_KEY_FILE?: string;

  @IsOptional()
  @IsString()
  SIP_TLS_CA_FILE?: string;

  @IsOptional()
  @IsString()
  SIP_TLS_CLIENT_CERT_FILE?: string;

  @IsOptional()
  @IsString()
  SIP_TLS_CLIENT_KEY_FILE?: string;

  @IsOptional()
  @IsString()
  SIP_CREDENTIALS_FILE?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(600000)
  SIP_RING_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  REGISTRATION_MIN_TTL_S?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(7 * 86400)
  REGISTRATION_MAX_TTL_S?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(7 * 86400)
  REGISTRATION_DEFAULT_TTL_S?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(30)
  @Max(86400)
  SIP_REGISTER_EXPIRES_S?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(64000)
  SIP_TRANSACTION_TIMEOUT_MS?: number;

  /** RFC 3261 §17.1.1.1 T1, the base of every SIP timer (500 ms); never above T2 (4 s). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(4000)
  SIP_T1_MS?: number;

  @IsOptional()
  @IsIn(['supported', 'required', 'disabled'], { message: 'SIP_100REL must be supported, required or disabled' })
  SIP_100REL?: 'supported' | 'required' | 'disabled';

  /** 3GPP TS 24.229 registration and call profile: MMTel feature tags, Service-Route, P-Preferred-*; or none of it. */
  @IsOptional()
  @IsIn(['ims', 'plain'], { message: 'SIP_IMS_PROFILE must be ims or plain' })
  SIP_IMS_PROFILE?: 'ims' | 'plain';

  /** RFC 4028 session interval asked for in our INVITEs; 0 disables asking (a far end's timer is still honoured). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400)
  SIP_SESSION_EXPIRES_S?: number;

  /**
   * RFC 3261 §22.1: how long the nonce of a subscriber's last digest challenge is reused to sign its
   * next requests pre-emptively (0: never; keep it below the core's nonce lifetime).
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400)
  SIP_PREEMPTIVE_AUTH_MAX_AGE_S?: number;

  /** RFC 4028 §4: Min-SE, never below SIP_MIN_SE_FLOOR_S (checked in loadConfig). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(86400)
  SIP_MIN_SE_S?: number;

  /** The smallest Min-SE allowed: 90 s by RFC 4028 §4; lower only for labs that shorten session timers. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(90)
  SIP_MIN_SE_FLOOR_S?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400)
  SESSION_RETENTION_S?: number;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  EVENTS_ALLOW_PRIVATE_SINKS?: boolean;

  /** DNS servers for webhook sink names: `ip`, `ip:port` or `[ipv6]:port`, comma-separated (checked in loadConfig). */
  @IsOptional()
  @Transform(toList)
  @IsString({ each: true })
  EVENTS_DNS_SERVERS?: string[];

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  EVENTS_MAX_ATTEMPTS?: number;

  /** Subscriptions this instance delivers to at the same time (each in order, one POST at a time). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1024)
  EVENTS_DELIVERY_CONCURRENCY?: number;

  /** Connections kept to one sink origin at most (default: EVENTS_DELIVERY_CONCURRENCY). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1024)
  EVENTS_SINK_CONNECTIONS?: number;

  @IsOptional()
  @IsIn(['enabled', 'disabled'])
  EMERGENCY_CALLS?: 'enabled' | 'disabled';

  @IsOptional()
  @Transform(toList)
  @Matches(/^[0-9]{2,6}$/, { each: true, message: 'EMERGENCY_NUMBERS must be a comma-separated list of short numbers' })
  EMERGENCY_NUMBERS?: string[];

  @IsOptional()
  @IsIn(['p-asserted-identity', 'p-preferred-identity'])
  EMERGENCY_IDENTITY_HEADER?: 'p-asserted-identity' | 'p-preferred-identity';

  @IsOptional()
  @IsIn(['passthrough', 'ims'])
  SDP_PROFILE?: 'passthrough' | 'ims';

  @ValidateIf((o: EnvSchema) => o.ADMIN_TOKEN !== undefined)
  @IsString()
  @Matches(/^\S{16,}$/, { message: 'ADMIN_TOKEN must be at least 16 non-space characters' })
  ADMIN_TOKEN?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(10000)
  SHUTDOWN_TIMEOUT_MS?: number;

  @IsOptional()
  @IsIn(['exit', 'retry'])
  REDIS_BOOT?: 'exit' | 'retry';

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(60000)
  CLUSTER_LEASE_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(500)
  @Max(60000)
  CLUSTER_FORWARD_TIMEOUT_MS?: number;
}

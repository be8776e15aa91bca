import { Global, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit, Optional, Provider } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { StoreUnreachableAtBootError } from '../common/errors/store-unavailable.error';
import { Clock } from '../common/clock';
import { MemoryRegistrationStore } from './memory/memory-registration.store';
import { RedisRegistrationStore } from './redis/redis-registration.store';
import { createRedisClient, RedisClient } from './redis/redis-client';
import { followerOf } from './redis/sentinel-failover';
import { RegistrationStore } from './registration-store';
import { SessionStore } from './session-store';
import { instrumentStore } from './instrument-store';
import { STORE_TELEMETRY, StoreTelemetry } from './store-telemetry';
import { MemorySessionStore } from './memory/memory-session.store';
import { RedisSessionStore } from './redis/redis-session.store';

/** Connects the Redis client at boot (a bad REDIS_URL fails fast) and quits it at shutdown. */
@Injectable()
export class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Optional() @Inject(RedisClient) private readonly redis: RedisClient | null,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.redis || this.config.store.kind !== 'redis') return;
    const { topology, onUnreachable } = this.config.store;
    this.redis.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'redis connection error'));
    try {
      await this.redis.connect();
      this.logger.info('connected to redis');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (onUnreachable === 'exit') {
        // stop reconnecting: the boot fails and nothing else will quit this client
        this.redis.disconnect();
        throw new StoreUnreachableAtBootError(topology.where, reason);
      }
      // REDIS_BOOT=retry: ioredis keeps reconnecting; /health/ready answers 503 until the store answers.
      this.logger.error({ redis: topology.where, reason }, 'Redis is unreachable; starting anyway (REDIS_BOOT=retry): not ready until it answers');
    }
    // with Sentinels: their failover announcements, whether the master answered yet or not
    followerOf(this.redis)?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.redis) return;
    followerOf(this.redis)?.stop();
    // After every other module's shutdown work (which may still write state).
    await this.redis.quit().catch(() => undefined);
    // also after a clean QUIT: a Sentinel client's failover detector keeps its own connections
    // to the sentinels (and after a failover they outlive QUIT) until disconnect()
    this.redis.disconnect();
  }
}

/** The store, timed and counted when a StoreTelemetry is provided (the observability module provides one). */
function instrumented<T extends object>(store: T, name: string, telemetry: StoreTelemetry | undefined): T {
  return telemetry ? instrumentStore(store, name, telemetry) : store;
}

const providers: Provider[] = [
  { provide: Clock, useValue: Clock.system },
  {
    provide: RedisClient,
    inject: [AppConfig, ROOT_LOGGER],
    useFactory: (config: AppConfig, logger: RootLogger) => (config.store.kind === 'redis' ? createRedisClient(config.store.topology, logger) : null),
  },
  {
    provide: RegistrationStore,
    inject: [AppConfig, RedisClient, Clock, { token: STORE_TELEMETRY, optional: true }],
    useFactory: (config: AppConfig, redis: RedisClient | null, clock: Clock, telemetry: StoreTelemetry | undefined) =>
      instrumented(config.store.kind === 'redis' && redis ? new RedisRegistrationStore(redis, config.store.keyPrefix, clock) : new MemoryRegistrationStore(clock), 'registration', telemetry),
  },
  {
    provide: SessionStore,
    inject: [AppConfig, RedisClient, Clock, { token: STORE_TELEMETRY, optional: true }],
    useFactory: (config: AppConfig, redis: RedisClient | null, clock: Clock, telemetry: StoreTelemetry | undefined) =>
      instrumented(config.store.kind === 'redis' && redis ? new RedisSessionStore(redis, config.store.keyPrefix, clock) : new MemorySessionStore(clock), 'session', telemetry),
  },
  RedisLifecycle,
];

/** The only module that knows whether state lives in Redis or in memory. */
@Global()
@Module({ providers, exports: [Clock, RedisClient, RegistrationStore, SessionStore] })
export class StoreModule {}

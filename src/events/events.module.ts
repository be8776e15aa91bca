import { Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { AppConfig } from '../config/app-config';
import { withDeadline } from '../common/lifecycle/shutdown-deadline';
import { INSTANCE_ID } from '../common/lifecycle/instance-id';
import { Clock } from '../common/clock';
import { EventQueue } from '../store/event-queue';
import { MemoryEventQueue } from '../store/memory/memory-event-queue';
import { MemorySubscriptionStore } from '../store/memory/memory-subscription.store';
import { RedisEventQueue } from '../store/redis/redis-event-queue';
import { RedisClient } from '../store/redis/redis-client';
import { RedisSubscriptionStore } from '../store/redis/redis-subscription.store';
import { RegistrationStore } from '../store/registration-store';
import { SubscriptionStore } from '../store/subscription-store';
import { DeliveryWorker } from './delivery-worker';
import { EventPublisher } from './event-publisher';
import { EVENT_TELEMETRY, EventMetrics, EventTelemetry } from './event-metrics';
import { QueueingEventPublisher } from './queueing-event-publisher';
import { deliveryWorkerOptions, sinkTransportFor } from './delivery-settings';
import { serversResolve, SinkPolicy, systemResolve } from './sink-address';
import { SinkTransport } from './sink-client';
import { DEFAULT_TOKEN_NOTICE_MS, SubscriptionLifecycle } from './subscription-lifecycle';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsService } from './subscriptions.service';
import { LIMIT_TELEMETRY, LimitTelemetry } from '../common/limits/limit-telemetry';

/** Starts the delivery worker once the app is up; stops it (waiting for in-flight POSTs) at shutdown. */
@Injectable()
export class DeliveryWorkerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(DeliveryWorker) private readonly worker: DeliveryWorker,
    private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
  ) {}
  onApplicationBootstrap(): void {
    this.worker.start();
  }
  /** Waits for in-flight POSTs for half the shutdown budget at most: the rest is for the SIP side. */
  async onApplicationShutdown(): Promise<void> {
    await withDeadline(this.worker.close(), this.config.shutdown.timeoutMs / 2, () =>
      this.logger.warn('event delivery still busy at shutdown; leaving it (queued events stay in the store for the next instance)'),
    );
  }
}

const redisOf = (config: AppConfig, redis: RedisClient | null): { redis: RedisClient; prefix: string } | undefined =>
  config.store.kind === 'redis' && redis ? { redis, prefix: config.store.keyPrefix } : undefined;

const providers: Provider[] = [
  {
    provide: SubscriptionStore,
    inject: [AppConfig, { token: RedisClient, optional: true }, Clock],
    useFactory: (config: AppConfig, redis: RedisClient | null, clock: Clock) => {
      const r = redisOf(config, redis);
      return r ? new RedisSubscriptionStore(r.redis, r.prefix, clock) : new MemorySubscriptionStore(clock);
    },
  },
  {
    provide: EventQueue,
    inject: [AppConfig, { token: RedisClient, optional: true }, Clock, SubscriptionStore],
    useFactory: (config: AppConfig, redis: RedisClient | null, clock: Clock, subscriptions: SubscriptionStore) => {
      const r = redisOf(config, redis);
      return r ? new RedisEventQueue(r.redis, r.prefix, clock) : new MemoryEventQueue(clock, subscriptions);
    },
  },
  {
    provide: SinkPolicy,
    inject: [AppConfig],
    useFactory: ({ events }: AppConfig) => new SinkPolicy(events.allowPrivateSinks, events.dnsServers.length > 0 ? serversResolve(events.dnsServers) : systemResolve),
  },
  { provide: SinkTransport, inject: [SinkPolicy, AppConfig], useFactory: (policy: SinkPolicy, { events }: AppConfig) => sinkTransportFor(events, policy) },
  {
    provide: EventMetrics,
    inject: [EventQueue, { token: EVENT_TELEMETRY, optional: true }],
    useFactory: (queue: EventQueue, telemetry?: EventTelemetry) => new EventMetrics(queue, telemetry),
  },
  {
    provide: SubscriptionLifecycle,
    inject: [SubscriptionStore, EventQueue, ROOT_LOGGER, Clock],
    useFactory: (store: SubscriptionStore, queue: EventQueue, logger: RootLogger, clock: Clock) => new SubscriptionLifecycle(store, queue, logger, clock),
  },
  {
    provide: DeliveryWorker,
    inject: [SubscriptionStore, EventQueue, SinkTransport, SubscriptionLifecycle, EventMetrics, ROOT_LOGGER, AppConfig, Clock, { token: INSTANCE_ID, optional: true }],
    useFactory: (
      store: SubscriptionStore,
      queue: EventQueue,
      transport: SinkTransport,
      lifecycle: SubscriptionLifecycle,
      metrics: EventMetrics,
      logger: RootLogger,
      config: AppConfig,
      clock: Clock,
      instanceId: string | undefined,
    ) => new DeliveryWorker(store, queue, transport, lifecycle, metrics, logger.child({ component: 'event-delivery' }), deliveryWorkerOptions(config.events, instanceId), clock),
  },
  {
    provide: EventPublisher,
    inject: [SubscriptionStore, EventQueue, DeliveryWorker, Clock],
    useFactory: (store: SubscriptionStore, queue: EventQueue, worker: DeliveryWorker, clock: Clock) => new QueueingEventPublisher(store, queue, worker, clock),
  },
  {
    provide: SubscriptionsService,
    inject: [SubscriptionStore, RegistrationStore, SubscriptionLifecycle, SinkPolicy, Clock, AppConfig, { token: LIMIT_TELEMETRY, optional: true }],
    useFactory: (
      store: SubscriptionStore,
      registrations: RegistrationStore,
      lifecycle: SubscriptionLifecycle,
      sinks: SinkPolicy,
      clock: Clock,
      config: AppConfig,
      telemetry: LimitTelemetry | undefined,
    ) => new SubscriptionsService(store, registrations, lifecycle, sinks, clock, DEFAULT_TOKEN_NOTICE_MS, { perDevice: config.limits.subscriptionsPerDevice, telemetry }),
  },
  DeliveryWorkerLifecycle,
];

/**
 * webrtc-events: subscriptions API, the EventPublisher port and reliable webhook delivery.
 * Expects AppConfig, ROOT_LOGGER, Clock, RegistrationStore and (with `store.kind === 'redis'`)
 * RedisClient from the global StoreModule.
 */
@Module({
  controllers: [SubscriptionsController],
  providers,
  exports: [EventPublisher, EventMetrics, SubscriptionStore],
})
export class EventsModule {}

import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { INSTANCE_ID, newInstanceId } from '../common/lifecycle/instance-id';
import { ROOT_LOGGER, RootLogger } from '../common/logging/root-logger';
import { RedisClient } from '../store/redis/redis-client';
import { Cluster } from './cluster';
import { LocalCluster } from './local-cluster';
import { RedisCluster } from './redis-cluster';

/** This instance among the others sharing the store: Redis leases and messaging, or alone (memory). */
@Global()
@Module({
  providers: [
    { provide: INSTANCE_ID, useFactory: newInstanceId },
    {
      provide: Cluster,
      inject: [AppConfig, RedisClient, ROOT_LOGGER, INSTANCE_ID],
      useFactory: (config: AppConfig, redis: RedisClient | null, logger: RootLogger, instanceId: string): Cluster =>
        config.store.kind === 'redis' && redis
          ? new RedisCluster(
              redis,
              { prefix: config.store.keyPrefix, leaseMs: config.cluster.leaseMs, forwardTimeoutMs: config.cluster.forwardTimeoutMs, instanceId },
              logger.child({ component: 'cluster' }),
            )
          : new LocalCluster(),
    },
  ],
  exports: [Cluster, INSTANCE_ID],
})
export class ClusterModule {}

import { BeforeApplicationShutdown } from '@nestjs/common';
import { Cluster, ForwardOutcome } from './cluster';

/** The in-memory store: one instance, nothing to forward, nobody to adopt from. */
export class LocalCluster extends Cluster implements BeforeApplicationShutdown {
  readonly instanceId = 'local';

  forward(): Promise<ForwardOutcome> {
    return Promise.resolve({ kind: 'no-listener' });
  }

  activeSessionIds(): Promise<string[]> {
    return Promise.resolve([]);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.draining) return;
    for (const h of this.drainHandlers) await h().catch(() => undefined);
  }
}

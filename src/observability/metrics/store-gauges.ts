import { Injectable, OnModuleInit } from '@nestjs/common';
import { RegistrationStore } from '../../store/registration-store';
import { SessionStore } from '../../store/session-store';
import { GatewayMetrics } from './gateway-metrics';
import { EventMetrics } from '../../events/event-metrics';

/** Feeds the registrations/active-calls/backlog gauges from the stores (kept apart so the stores can be instrumented by GatewayMetrics). */
@Injectable()
export class StoreGauges implements OnModuleInit {
  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly registrations: RegistrationStore,
    private readonly sessions: SessionStore,
    private readonly events: EventMetrics,
  ) {}

  onModuleInit(): void {
    this.metrics.registerStoreGauges({ registrations: () => this.registrations.count(), activeSessions: () => this.sessions.countActive() });
    this.metrics.registerBacklogGauge(() => this.events.backlog());
  }
}

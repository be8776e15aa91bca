import { EventAudience, EventPublisher, WebrtcEventType } from '../../src/events/event-publisher';

/** EventPublisher for unit tests: remembers what was published. */
export class RecordingEventPublisher extends EventPublisher {
  readonly published: Array<{ audience: EventAudience; type: WebrtcEventType; data: Record<string, unknown> }> = [];
  subscribed = true;

  async publish(audience: EventAudience, type: Exclude<WebrtcEventType, 'org.camaraproject.webrtc-events.v0.subscription-ended'>, data: Record<string, unknown>): Promise<number> {
    this.published.push({ audience, type, data });
    return 1;
  }

  readonly releasedDeliveriesOf: string[] = [];

  async releaseDeliveriesOf(owner: string): Promise<number> {
    this.releasedDeliveriesOf.push(owner);
    return 0;
  }

  async hasSubscribers(): Promise<boolean> {
    return this.subscribed;
  }

  statuses(): unknown[] {
    return this.published.filter((p) => p.type === 'org.camaraproject.webrtc-events.v0.session-status').map((p) => p.data.status);
  }
}

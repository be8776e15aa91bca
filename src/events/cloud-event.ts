import type { QueuedEvent } from '../store/event-queue';
import { WebrtcEventType } from './event-publisher';

/** The default CloudEvent `source` (spec `Source`: a URI-reference; here the API's base path). */
export const DEFAULT_EVENT_SOURCE = '/webrtc-events/v0.3';

/** CloudEvents 1.0 structured-mode body, as the spec's `CloudEvent` schema describes it. */
export interface CloudEvent {
  id: string;
  source: string;
  type: WebrtcEventType;
  specversion: '1.0';
  time: string;
  datacontenttype: 'application/json';
  data: Record<string, unknown>;
}

/**
 * Builds the body POSTed to the sink. Every `data` carries `subscriptionId` (as in the spec's
 * examples); MediaSession payloads (session-status, session-invitation) also carry the
 * per-subscription `sequenceNumber`.
 */
export function toCloudEvent(e: QueuedEvent, source: string): CloudEvent {
  const data: Record<string, unknown> = { ...e.data, subscriptionId: e.subscriptionId };
  if (e.type === WebrtcEventType.sessionStatus || e.type === WebrtcEventType.sessionInvitation) data.sequenceNumber = e.sequence;
  return { id: e.id, source, type: e.type, specversion: '1.0', time: e.time, datacontenttype: 'application/json', data };
}

/**
 * An app on the CAMARA APIs, for e2e specs: a subscriber's token, one device registered, and a
 * webhook sink subscribed to the device's events.
 *
 *   const alice = await registerApp(gw, idp, '+17085852753', ['session-status']);
 *   await gw.request('POST', API.sessions, { token: alice.token, headers: { registrationid: alice.registrationId }, body });
 *   await alice.sink.waitFor((e) => e.body.data.status === 'Connected', 10_000, 'Connected');
 *   await alice.close();
 */
import { randomUUID } from 'node:crypto';
import type { TestIdp } from './auth';
import type { GatewayUnderTest } from './gateway';
import { startSink, TestSink } from './sink';

export const API = {
  registrations: '/webrtc-registration/v0.4/sessions',
  sessions: '/webrtc-call-handling/v0.4/sessions',
  subscriptions: '/webrtc-events/v0.3/subscriptions',
} as const;

/** `session-status` → `org.camaraproject.webrtc-events.v0.session-status` */
export const eventType = (name: string): string => `org.camaraproject.webrtc-events.v0.${name}`;

/** What an app needs to register, place, read, change and end calls, and subscribe to `types`. */
export function appScopes(types: readonly string[]): string {
  return [
    'webrtc-registration:sessions:create',
    'webrtc-call-handling:sessions:create',
    'webrtc-call-handling:sessions:read',
    'webrtc-call-handling:sessions:write',
    'webrtc-call-handling:sessions:delete',
    'webrtc-events:read',
    ...types.map((t) => `webrtc-events:${t}:create`),
  ].join(' ');
}

/** A plain audio offer (PCMU + telephone-event) from a documentation address. */
export const AUDIO_OFFER =
  'v=0\r\no=alice 100 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n';

export interface RegisteredApp {
  readonly phoneNumber: string;
  readonly token: string;
  readonly deviceId: string;
  readonly registrationId: string;
  /** receives the device's events (the subscription asked for `events`) */
  readonly sink: TestSink;
  close(): Promise<void>;
}

/** Registers a device of `phoneNumber` on `gw` (in-process or its own OS process) and subscribes a new sink to its `events` (short names). Throws unless both answer 201. */
export async function registerApp(gw: Pick<GatewayUnderTest, 'request'>, idp: TestIdp, phoneNumber: string, events: readonly string[]): Promise<RegisteredApp> {
  const types = events.map(eventType);
  const token = await idp.token({ phone_number: phoneNumber, scope: appScopes(types) });
  const deviceId = randomUUID();
  const reg = await gw.request('POST', API.registrations, { token, body: { deviceId } });
  if (reg.status !== 201) throw new Error(`registration of ${phoneNumber}: ${reg.status} ${reg.text}`);
  const registrationId = (reg.body as { registrationId: string }).registrationId;
  const sink = await startSink();
  const sub = await gw.request('POST', API.subscriptions, { token, body: { protocol: 'HTTP', sink: sink.url, types, config: { subscriptionDetail: { deviceId } } } });
  if (sub.status !== 201) {
    await sink.close();
    throw new Error(`subscription of ${phoneNumber}: ${sub.status} ${sub.text}`);
  }
  return { phoneNumber, token, deviceId, registrationId, sink, close: () => sink.close() };
}

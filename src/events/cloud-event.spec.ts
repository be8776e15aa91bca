import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { toCloudEvent } from './cloud-event';
import { WebrtcEventType } from './event-publisher';

// Project-owned copies of the spec's shapes (webrtc-events.yaml: CloudEvent, Source, MediaSession,
// MediaSessionStatusUpdate, RegistrationEnds, SubscriptionEnded).
const cloudEvent = {
  type: 'object',
  required: ['id', 'source', 'specversion', 'type', 'time'],
  properties: {
    id: { type: 'string', maxLength: 256 },
    source: { type: 'string', format: 'uri-reference', minLength: 1, maxLength: 2048 },
    type: { type: 'string', maxLength: 512 },
    specversion: { enum: ['1.0'] },
    datacontenttype: { enum: ['application/json'] },
    data: { type: 'object' },
    time: { type: 'string', format: 'date-time', maxLength: 64 },
  },
};
const address = { type: 'string', pattern: '^(tel:\\+[0-9]{5,15}|sip:[A-Za-z0-9_.!%+\\-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,})$', maxLength: 256 };
const mediaSessionStatus = {
  type: 'object',
  required: ['mediaSessionId', 'status'],
  properties: {
    subscriptionId: { type: 'string', maxLength: 256 },
    originatorAddress: address,
    receiverAddress: address,
    status: {
      enum: ['Initial', 'InProgress', 'Ringing', 'Proceeding', 'Connected', 'Terminated', 'Hold', 'Resume', 'SessionCancelled', 'Declined', 'Failed', 'Waiting', 'NoAnswer', 'NotReachable', 'Busy'],
    },
    offer: { type: 'object', properties: { sdp: { type: 'string', maxLength: 65536 } } },
    answer: { type: 'object', properties: { sdp: { type: 'string', maxLength: 65536 } } },
    mediaSessionId: { type: 'string', maxLength: 256 },
    reason: { type: 'string', maxLength: 2048 },
    sequenceNumber: { type: 'integer', minimum: 1, maximum: 2147483647 },
  },
};
const registrationEnds = {
  type: 'object',
  required: ['registrationId', 'terminationReason'],
  properties: {
    registrationId: { type: 'string', maxLength: 256 },
    terminationReason: { enum: ['NETWORK_TERMINATED', 'REGISTRATION_EXPIRED'] },
    terminationDescription: { type: 'string', maxLength: 2048 },
  },
};
const subscriptionEnded = {
  type: 'object',
  required: ['subscriptionId', 'terminationReason'],
  properties: {
    subscriptionId: { type: 'string', maxLength: 256 },
    terminationReason: { enum: ['MAX_EVENTS_REACHED', 'NETWORK_TERMINATED', 'SUBSCRIPTION_EXPIRED', 'ACCESS_TOKEN_EXPIRED', 'SUBSCRIPTION_DELETED'] },
    terminationDescription: { type: 'string', maxLength: 2048 },
  },
};

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const withData = (type: string, data: object) => ({ allOf: [cloudEvent, { required: ['data'], properties: { type: { enum: [type] }, data } }] });

const base = { id: 'e1', subscriptionId: 'sub-1', time: '2030-01-01T00:00:00.000Z', sequence: 7 };

describe(toCloudEvent.name, () => {
  it('builds a session-status event: the full MediaSession plus subscriptionId and sequenceNumber', () => {
    const ce = toCloudEvent(
      {
        ...base,
        type: WebrtcEventType.sessionStatus,
        data: { mediaSessionId: 'm1', status: 'Ringing', originatorAddress: 'tel:+34600000001', receiverAddress: 'tel:+34600000002', offer: { sdp: 'v=0' } },
      },
      '/webrtc-events/v0.3',
    );
    expect(ajv.validate(withData(WebrtcEventType.sessionStatus, mediaSessionStatus), ce)).toBe(true);
    expect(ce).toMatchObject({ specversion: '1.0', datacontenttype: 'application/json', data: { subscriptionId: 'sub-1', sequenceNumber: 7, offer: { sdp: 'v=0' } } });
  });

  it('builds a registration-ends event', () => {
    const ce = toCloudEvent(
      { ...base, type: WebrtcEventType.registrationEnds, data: { registrationId: 'r1', terminationReason: 'REGISTRATION_EXPIRED', terminationDescription: 'SIP re-registration required' } },
      '/webrtc-events/v0.3',
    );
    expect(ajv.validate(withData(WebrtcEventType.registrationEnds, registrationEnds), ce)).toBe(true);
    expect(ce.data).not.toHaveProperty('sequenceNumber');
  });

  it('builds a subscription-ended event', () => {
    const ce = toCloudEvent(
      { ...base, type: WebrtcEventType.subscriptionEnded, data: { terminationReason: 'SUBSCRIPTION_DELETED', terminationDescription: 'x' } },
      'https://gw.example.com/webrtc-events/v0.3',
    );
    expect(ajv.validate(withData(WebrtcEventType.subscriptionEnded, subscriptionEnded), ce)).toBe(true);
  });

  it('the envelope check does catch a bad one', () => {
    const ce = { ...toCloudEvent({ ...base, type: WebrtcEventType.sessionStatus, data: { mediaSessionId: 'm1' } }, '/x'), specversion: '0.3' };
    expect(ajv.validate(withData(WebrtcEventType.sessionStatus, mediaSessionStatus), ce)).toBe(false);
  });
});

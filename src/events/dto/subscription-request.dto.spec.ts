import type { ArgumentMetadata } from '@nestjs/common';
import { camaraValidationPipe } from '../../common/http/validation.pipe';
import { SubscriptionRequest, SubscriptionUpdateRequest } from './subscription-request.dto';

const pipe = camaraValidationPipe();
const meta = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });
const valid = {
  protocol: 'HTTP',
  sink: 'https://app.example.com/cb',
  types: ['org.camaraproject.webrtc-events.v0.session-status'],
  config: { subscriptionDetail: { deviceId: '8b2ce2ad-8f4f-4b1a-9e5d-6a2f0a1c9d11' } },
};
const credential = { credentialType: 'ACCESSTOKEN', accessToken: 'abc', accessTokenExpiresUtc: '2030-01-01T00:00:00Z', accessTokenType: 'bearer' };
const create = (over: Record<string, unknown>) => pipe.transform({ ...valid, ...over }, meta(SubscriptionRequest));

describe('SubscriptionRequest validation: CAMARA_event_common codes', () => {
  it('accepts a valid request, unknown properties stripped', async () => {
    await expect(create({ sinkCredential: { ...credential, extra: 1 }, clientCorrelator: 'c' })).resolves.toEqual({ ...valid, sinkCredential: credential });
  });
  it.each<[string, string, Record<string, unknown>]>([
    ['a sink that is not a string', 'INVALID_SINK', { sink: 42 }],
    ['a sink over 1024 characters', 'INVALID_SINK', { sink: `https://x.example/${'a'.repeat(1100)}` }],
    ['a protocol that is not a string', 'INVALID_PROTOCOL', { protocol: null }],
    ['an accessToken with CR/LF', 'INVALID_CREDENTIAL', { sinkCredential: { ...credential, accessToken: 'abc\r\nX-Injected: 1' } }],
    ['an accessTokenType with a TAB', 'INVALID_CREDENTIAL', { sinkCredential: { ...credential, accessTokenType: 'bea\trer' } }],
    ['an impossible accessTokenExpiresUtc', 'INVALID_CREDENTIAL', { sinkCredential: { ...credential, accessTokenExpiresUtc: '2030-02-30T00:00:00Z' } }],
    ['a sinkCredential that is not an object', 'INVALID_CREDENTIAL', { sinkCredential: 'token' }],
    ['an impossible subscriptionExpireTime', 'INVALID_ARGUMENT', { config: { ...valid.config, subscriptionExpireTime: '2026-11-31T02:30:00Z' } }],
    ['sink and protocol both wrong', 'INVALID_ARGUMENT', { sink: 1, protocol: 2 }],
  ])('%s → 400 %s', async (_what, code, over) => {
    await expect(create(over)).rejects.toMatchObject({ status: 400, code });
  });
  it('refuses an explicit null sinkCredential on update (null is not absent)', async () => {
    await expect(pipe.transform({ sinkCredential: null }, meta(SubscriptionUpdateRequest))).rejects.toMatchObject({ status: 400, code: 'INVALID_CREDENTIAL' });
  });
});

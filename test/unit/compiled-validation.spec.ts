import 'reflect-metadata';
import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { IsString, validate, ValidateIf } from 'class-validator';
import { CamaraValidationPipe, toValidationError } from '../../src/common/http/validation.pipe';
import { CompiledValidation, compiledValidatorOf } from '../../src/common/validation/compiled-schema';
import { MediaSessionCreate, MediaSessionStatusChange } from '../../src/sessions/dto/media-session.dto';
import { RegSessionRequest, RegSessionUpdate } from '../../src/registrations/dto/reg-session.dto';
import { SubscriptionRequest } from '../../src/events/dto/subscription-request.dto';

/** Both validators on the same inputs: the compiled schema must accept exactly what class-validator accepts. */

type Body = Record<string, unknown>;
type Dto = new () => object;

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const UUID = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

const create: Body = { originatorAddress: 'tel:+447700900001', receiverAddress: 'sip:bob@example.com', offer: { sdp: SDP } };
const statusChange: Body = { status: 'Connected', answer: { sdp: SDP } };
const reg: Body = { deviceId: UUID, registrationExpireTime: '2026-12-01T10:00:00Z' };
const sub: Body = {
  protocol: 'HTTP',
  sink: 'https://app.example.com/events',
  sinkCredential: { credentialType: 'ACCESSTOKEN', accessToken: 'tok', accessTokenExpiresUtc: '2026-12-01T10:00:00+01:00', accessTokenType: 'bearer' },
  types: ['org.camaraproject.webrtc-events.v0.session-status'],
  config: { subscriptionDetail: { deviceId: UUID }, subscriptionExpireTime: '2026-12-01T10:00:00Z', subscriptionMaxEvents: 5, initialEvent: true },
};

const w = (base: Body, patch: Body): Body => ({ ...structuredClone(base), ...patch });
const without = (base: Body, key: string): Body => {
  const copy = structuredClone(base);
  delete copy[key];
  return copy;
};

const TABLE: [string, Dto, Body][] = [
  ['create: minimal', MediaSessionCreate, create],
  ['create: every field', MediaSessionCreate, w(create, { originatorName: 'Alice', receiverName: 'Bob', callType: 'EMERGENCY', locationDetails: { latitude: 1, extra: { a: 1 } } })],
  ['create: extra fields are stripped', MediaSessionCreate, w(create, { clientCorrelator: 'x', status: 'Connected', mediaSessionId: 'm', offer: { sdp: SDP, type: 'offer' } })],
  ['create: short code receiver', MediaSessionCreate, w(create, { receiverAddress: 'tel:112' })],
  ['create: sos urn', MediaSessionCreate, w(create, { receiverAddress: 'urn:service:sos.police' })],
  ['create: anonymous originator', MediaSessionCreate, w(create, { originatorAddress: 'sip:anonymous@anonymous.invalid' })],
  ['create: phone-context', MediaSessionCreate, w(create, { receiverAddress: 'tel:1234;phone-context=example.com' })],
  ['create: bad receiver', MediaSessionCreate, w(create, { receiverAddress: 'mailto:bob@example.com' })],
  ['create: receiver with CRLF', MediaSessionCreate, w(create, { receiverAddress: 'sip:bob@example.com\r\nX: y' })],
  ['create: originator missing', MediaSessionCreate, without(create, 'originatorAddress')],
  ['create: originator null', MediaSessionCreate, w(create, { originatorAddress: null })],
  ['create: originator a number', MediaSessionCreate, w(create, { originatorAddress: 447700900001 })],
  ['create: originator too long', MediaSessionCreate, w(create, { originatorAddress: `sip:${'a'.repeat(250)}@example.com` })],
  ['create: name with control char', MediaSessionCreate, w(create, { originatorName: 'Al\u0007ice' })],
  ['create: name null', MediaSessionCreate, w(create, { receiverName: null })],
  ['create: name 256 chars', MediaSessionCreate, w(create, { receiverName: 'n'.repeat(256) })],
  ['create: name 257 chars', MediaSessionCreate, w(create, { receiverName: 'n'.repeat(257) })],
  ['create: name with emoji', MediaSessionCreate, w(create, { receiverName: `${'n'.repeat(254)}😀` })],
  ['create: offer missing', MediaSessionCreate, without(create, 'offer')],
  ['create: offer a string', MediaSessionCreate, w(create, { offer: SDP })],
  ['create: offer an array', MediaSessionCreate, w(create, { offer: [{ sdp: SDP }] })],
  ['create: offer null', MediaSessionCreate, w(create, { offer: null })],
  ['create: offer without sdp', MediaSessionCreate, w(create, { offer: {} })],
  ['create: sdp with NUL', MediaSessionCreate, w(create, { offer: { sdp: 'v=0\u0000' } })],
  ['create: sdp too large', MediaSessionCreate, w(create, { offer: { sdp: 'a'.repeat(65537) } })],
  ['create: answer present', MediaSessionCreate, w(create, { answer: { sdp: SDP } })],
  ['create: answer null', MediaSessionCreate, w(create, { answer: null })],
  ['create: callType unknown', MediaSessionCreate, w(create, { callType: 'URGENT' })],
  ['create: callType null', MediaSessionCreate, w(create, { callType: null })],
  ['create: location an array', MediaSessionCreate, w(create, { locationDetails: [1, 2] })],
  ['create: location null', MediaSessionCreate, w(create, { locationDetails: null })],
  ['status: Connected with answer', MediaSessionStatusChange, statusChange],
  ['status: Terminated alone', MediaSessionStatusChange, { status: 'Terminated' }],
  ['status: with offer and location', MediaSessionStatusChange, { status: 'Connected', offer: { sdp: SDP }, locationDetails: { a: 1 } }],
  ['status: unknown', MediaSessionStatusChange, { status: 'connected' }],
  ['status: missing', MediaSessionStatusChange, {}],
  ['status: answer null', MediaSessionStatusChange, w(statusChange, { answer: null })],
  ['status: answer sdp a number', MediaSessionStatusChange, w(statusChange, { answer: { sdp: 1 } })],
  ['status: answer extra stripped', MediaSessionStatusChange, w(statusChange, { answer: { sdp: SDP, type: 'answer' }, foo: 1 })],
  ['reg: full', RegSessionRequest, reg],
  ['reg: no expiry', RegSessionRequest, without(reg, 'registrationExpireTime')],
  ['reg: upper-case uuid', RegSessionRequest, w(reg, { deviceId: UUID.toUpperCase() })],
  ['reg: nil uuid', RegSessionRequest, w(reg, { deviceId: '00000000-0000-0000-0000-000000000000' })],
  ['reg: urn uuid', RegSessionRequest, w(reg, { deviceId: `urn:uuid:${UUID}` })],
  ['reg: uuid variant 0', RegSessionRequest, w(reg, { deviceId: '3fa85f64-5717-4562-73fc-2c963f66afa6' })],
  ['reg: not a uuid', RegSessionRequest, w(reg, { deviceId: 'device-1' })],
  ['reg: deviceId missing', RegSessionRequest, {}],
  ['reg: expiry offset', RegSessionRequest, w(reg, { registrationExpireTime: '2026-12-01T10:00:00.123+05:30' })],
  ['reg: expiry lower-case t/z', RegSessionRequest, w(reg, { registrationExpireTime: '2026-12-01t10:00:00z' })],
  ['reg: expiry without offset', RegSessionRequest, w(reg, { registrationExpireTime: '2026-12-01T10:00:00' })],
  ['reg: expiry 31 November', RegSessionRequest, w(reg, { registrationExpireTime: '2026-11-31T10:00:00Z' })],
  ['reg: expiry 29 February 2028', RegSessionRequest, w(reg, { registrationExpireTime: '2028-02-29T10:00:00Z' })],
  ['reg: expiry hour 24', RegSessionRequest, w(reg, { registrationExpireTime: '2026-12-01T24:00:00Z' })],
  ['reg: expiry a number', RegSessionRequest, w(reg, { registrationExpireTime: 1700000000 })],
  ['reg: expiry null', RegSessionRequest, w(reg, { registrationExpireTime: null })],
  ['reg update: empty', RegSessionUpdate, {}],
  ['reg update: expiry', RegSessionUpdate, { registrationExpireTime: '2026-12-01T10:00:00Z' }],
  ['reg update: bad expiry', RegSessionUpdate, { registrationExpireTime: 'tomorrow' }],
  ['sub: full', SubscriptionRequest, sub],
  [
    'sub: minimal',
    SubscriptionRequest,
    { protocol: 'HTTP', sink: 'https://a.example', types: ['org.camaraproject.webrtc-events.v0.registration-ends'], config: { subscriptionDetail: { deviceId: UUID } } },
  ],
  ['sub: protocol MQTT (judged by the service)', SubscriptionRequest, w(sub, { protocol: 'MQTT3' })],
  ['sub: protocol a number', SubscriptionRequest, w(sub, { protocol: 1 })],
  ['sub: sink too long', SubscriptionRequest, w(sub, { sink: `https://${'a'.repeat(1020)}` })],
  ['sub: credential token with LF', SubscriptionRequest, w(sub, { sinkCredential: { credentialType: 'ACCESSTOKEN', accessToken: 'a\nb' } })],
  ['sub: credential without type', SubscriptionRequest, w(sub, { sinkCredential: { accessToken: 'a' } })],
  ['sub: credential null', SubscriptionRequest, w(sub, { sinkCredential: null })],
  ['sub: credential extra stripped', SubscriptionRequest, w(sub, { sinkCredential: { credentialType: 'PLAIN', secret: 'x' } })],
  ['sub: types empty', SubscriptionRequest, w(sub, { types: [] })],
  ['sub: types duplicated', SubscriptionRequest, w(sub, { types: ['org.camaraproject.webrtc-events.v0.session-status', 'org.camaraproject.webrtc-events.v0.session-status'] })],
  ['sub: types four', SubscriptionRequest, w(sub, { types: ['a', 'b', 'c', 'd'] })],
  ['sub: types unknown', SubscriptionRequest, w(sub, { types: ['org.camaraproject.webrtc-events.v0.other'] })],
  ['sub: types a string', SubscriptionRequest, w(sub, { types: 'org.camaraproject.webrtc-events.v0.session-status' })],
  ['sub: config missing', SubscriptionRequest, without(sub, 'config')],
  ['sub: detail missing', SubscriptionRequest, w(sub, { config: {} })],
  ['sub: detail bad device', SubscriptionRequest, w(sub, { config: { subscriptionDetail: { deviceId: 'x' } } })],
  ['sub: max events 0', SubscriptionRequest, w(sub, { config: { subscriptionDetail: { deviceId: UUID }, subscriptionMaxEvents: 0 } })],
  ['sub: max events 1.5', SubscriptionRequest, w(sub, { config: { subscriptionDetail: { deviceId: UUID }, subscriptionMaxEvents: 1.5 } })],
  ['sub: max events too many', SubscriptionRequest, w(sub, { config: { subscriptionDetail: { deviceId: UUID }, subscriptionMaxEvents: 1_000_001 } })],
  ['sub: initialEvent a string', SubscriptionRequest, w(sub, { config: { subscriptionDetail: { deviceId: UUID }, initialEvent: 'true' } })],
  ['sub: expire 30 February', SubscriptionRequest, w(sub, { config: { subscriptionDetail: { deviceId: UUID }, subscriptionExpireTime: '2027-02-30T00:00:00Z' } })],
];

async function byClassValidator(dto: Dto, body: Body): Promise<{ ok: boolean; value: unknown }> {
  const instance = plainToInstance(dto, structuredClone(body));
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: false });
  return { ok: errors.length === 0, value: JSON.parse(JSON.stringify(instance)) as unknown };
}

function byCompiledSchema(dto: Dto, body: Body): { ok: boolean; value: unknown } {
  const fn = compiledValidatorOf(dto);
  if (!fn) throw new Error(`${dto.name} has no compiled validator`);
  const copy = structuredClone(body);
  return { ok: fn(copy), value: copy };
}

describe('compiled body schemas', () => {
  it.each(TABLE)('%s: the compiled schema and class-validator agree', async (_name, dto, body) => {
    const cv = await byClassValidator(dto, body);
    const fast = byCompiledSchema(dto, body);
    expect(fast.ok).toBe(cv.ok);
    if (cv.ok) expect(fast.value).toEqual(cv.value);
  });

  it('the table holds accepted and refused bodies for every DTO', async () => {
    for (const dto of [MediaSessionCreate, MediaSessionStatusChange, RegSessionRequest, RegSessionUpdate, SubscriptionRequest]) {
      const rows = TABLE.filter(([, d]) => d === dto);
      const results = await Promise.all(rows.map(([, d, b]) => byClassValidator(d, b)));
      expect(results.some((r) => r.ok)).toBe(true);
      if (dto !== RegSessionUpdate || rows.length > 1) expect(results.some((r) => !r.ok)).toBe(true);
    }
  });

  it('gives no compiled schema to a DTO with a rule it cannot express exactly, nor to an unmarked one', () => {
    @CompiledValidation()
    class Conditional {
      @ValidateIf((o: { kind?: string }) => o.kind === 'named')
      @IsString()
      name?: string;
    }
    class Unmarked {
      @IsString()
      name!: string;
    }
    @CompiledValidation()
    class Plain {
      @IsString()
      name!: string;
    }
    expect(compiledValidatorOf(Conditional)).toBeUndefined();
    expect(compiledValidatorOf(Unmarked)).toBeUndefined();
    expect(compiledValidatorOf(Plain)).toBeDefined();
  });
});

describe('CamaraValidationPipe', () => {
  const classic = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: false, transform: true, validationError: { target: false, value: false }, exceptionFactory: toValidationError });
  const pipe = new CamaraValidationPipe();
  const meta = (metatype: Dto): ArgumentMetadata => ({ type: 'body', metatype, data: undefined });

  it.each(TABLE)('%s: answers as the class-validator pipe does', async (_name, dto, body) => {
    const expected = await classic.transform(structuredClone(body), meta(dto)).then(
      (v: unknown) => ({ ok: JSON.parse(JSON.stringify(v)) as unknown }),
      (e: unknown) => ({ error: e }),
    );
    const actual = await pipe.transform(structuredClone(body), meta(dto)).then(
      (v: unknown) => ({ ok: JSON.parse(JSON.stringify(v)) as unknown }),
      (e: unknown) => ({ error: e }),
    );
    expect(actual).toEqual(expected);
  });
});

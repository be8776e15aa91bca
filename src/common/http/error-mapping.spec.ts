import { BadRequestException, NotFoundException } from '@nestjs/common';
import { ApiError } from '../errors/api-error';
import { StoreUnavailableError } from '../errors/store-unavailable.error';
import { X_CORRELATOR_PATTERN } from './correlator';
import { toErrorInfo } from './error-mapping';
import { clientErrorInfo, clientErrorResponse, emptyIdError } from './http-server';

describe('toErrorInfo', () => {
  it('keeps ApiError as given', () => {
    expect(toErrorInfo(new ApiError(409, 'ALREADY_EXISTS', 'dup'))).toEqual({ status: 409, code: 'ALREADY_EXISTS', message: 'dup', unexpected: false });
  });
  it('turns a store outage into 503 UNAVAILABLE', () => {
    expect(toErrorInfo(new StoreUnavailableError('get', new Error('ECONNREFUSED')))).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
  });
  it('maps framework exceptions by status', () => {
    expect(toErrorInfo(new NotFoundException('nope'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(toErrorInfo(new BadRequestException(['a', 'b']))).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT', message: 'a; b' });
  });
  it.each([
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'PAYLOAD_TOO_LARGE'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'INVALID_ARGUMENT'],
  ])('maps Fastify %s to %i %s', (code, status, camara) => {
    expect(toErrorInfo(Object.assign(new Error('x'), { code }))).toMatchObject({ status, code: camara });
  });
  it('hides unknown errors behind 500 INTERNAL', () => {
    expect(toErrorInfo(new TypeError('secret detail'))).toEqual({ status: 500, code: 'INTERNAL', message: expect.not.stringContaining('secret'), unexpected: true });
  });
  it('uses the CAMARA x-correlator pattern', () => {
    expect(X_CORRELATOR_PATTERN.test('b4333c46-49c0-4f62-80d7-f0ef930f1c46')).toBe(true);
    expect(X_CORRELATOR_PATTERN.test('bad correlator')).toBe(false);
    expect(X_CORRELATOR_PATTERN.test('x'.repeat(257))).toBe(false);
  });
});

describe('framework-level errors', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408],
    ['HPE_INVALID_METHOD', 400],
  ])('Node %s → %i in CAMARA shape', (code, status) => {
    const info = clientErrorInfo(code);
    expect(info.status).toBe(status);
    const raw = clientErrorResponse(info);
    expect(raw).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({ status, code: expect.any(String), message: expect.any(String) });
  });
  it('treats an empty id as 400, not a missing route', () => {
    expect(emptyIdError('/webrtc-call-handling/v0.4/sessions/')?.status).toBe(400);
    expect(emptyIdError('/webrtc-call-handling/v0.4/sessions//status')?.status).toBe(400);
    expect(emptyIdError('/webrtc-registration/v0.4/sessions?deviceId=x')).toBeUndefined();
    expect(emptyIdError('/webrtc-call-handling/v0.4/sessions/abc/status')).toBeUndefined();
  });
});

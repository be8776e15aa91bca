import { BadRequestException, NotFoundException } from '@nestjs/common';
import { ApiError } from '../errors/api-error';
import { StoreUnavailableError } from '../errors/store-unavailable.error';
import { X_CORRELATOR_PATTERN } from './correlator';
import { toErrorInfo } from './error-mapping';

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

import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
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

describe('toErrorInfo, case by case', () => {
  it.each([
    [400, 'INVALID_ARGUMENT'],
    [401, 'UNAUTHENTICATED'],
    [403, 'PERMISSION_DENIED'],
    [404, 'NOT_FOUND'],
    [405, 'NOT_FOUND'],
    [409, 'CONFLICT'],
    [413, 'PAYLOAD_TOO_LARGE'],
    [415, 'UNSUPPORTED_MEDIA_TYPE'],
    [429, 'TOO_MANY_REQUESTS'],
    [501, 'NOT_IMPLEMENTED'],
    [502, 'BAD_GATEWAY'],
    [503, 'UNAVAILABLE'],
    [504, 'TIMEOUT'],
  ])('maps a framework %i to %s', (status, code) => {
    expect(toErrorInfo(new HttpException({ message: 'why' }, status))).toEqual({ status, code, message: 'why', unexpected: status >= 500 });
  });
  it('falls back to INVALID_ARGUMENT below 500 and INTERNAL from 500 on, logging only the latter', () => {
    expect(toErrorInfo(new HttpException({ message: 'm' }, 499))).toEqual({ status: 499, code: 'INVALID_ARGUMENT', message: 'm', unexpected: false });
    expect(toErrorInfo(new HttpException({ message: 'm' }, 500))).toEqual({ status: 500, code: 'INTERNAL', message: 'm', unexpected: true });
    expect(toErrorInfo(new HttpException({ message: 'm' }, 507))).toEqual({ status: 507, code: 'INTERNAL', message: 'm', unexpected: true });
  });
  it('takes the message from the response body, else from the exception', () => {
    expect(toErrorInfo(new BadRequestException('one reason')).message).toBe('one reason');
    expect(toErrorInfo(new HttpException({ message: 42 }, 400)).message).toBe('42');
    expect(toErrorInfo(new HttpException('plain text', 400)).message).toBe('plain text');
    const noMessage = new HttpException({ error: 'x' }, 400);
    expect(toErrorInfo(noMessage).message).toBe(noMessage.message);
    expect(toErrorInfo(new HttpException({ message: ['only'] }, 400)).message).toBe('only');
  });
  it.each([
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json.'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'PAYLOAD_TOO_LARGE', 'Request body is too large.'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'INVALID_ARGUMENT', 'Request body is not valid JSON.'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'INVALID_ARGUMENT', 'Request body is empty but Content-Type is application/json.'],
    ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400, 'INVALID_ARGUMENT', 'Content-Length does not match the body.'],
  ])('renders Fastify %s as %i %s with its own message', (code, status, camara, message) => {
    expect(toErrorInfo({ code, message: 'internal wording' })).toEqual({ status, code: camara, message, unexpected: false });
  });
  it('renders a store outage with a retry hint and does not log it as a bug', () => {
    expect(toErrorInfo(new StoreUnavailableError('get', new Error('ECONNREFUSED')))).toEqual({
      status: 503,
      code: 'UNAVAILABLE',
      message: 'The service is temporarily unavailable (state store unreachable). Retry later.',
      unexpected: false,
    });
  });
  it('renders a JSON SyntaxError as 400', () => {
    expect(toErrorInfo(new SyntaxError('Unexpected token } in JSON'))).toEqual({ status: 400, code: 'INVALID_ARGUMENT', message: 'Request body is not valid JSON.', unexpected: false });
  });
  it('keeps a 4xx statusCode of other errors, with their message when it is a string', () => {
    expect(toErrorInfo({ statusCode: 400, message: 'bad header' })).toEqual({ status: 400, code: 'INVALID_ARGUMENT', message: 'bad header', unexpected: false });
    expect(toErrorInfo({ statusCode: 413, message: 'big' })).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'big', unexpected: false });
    expect(toErrorInfo({ statusCode: 431, message: 7 })).toEqual({ status: 431, code: 'INVALID_ARGUMENT', message: 'Bad request.', unexpected: false });
    expect(toErrorInfo({ statusCode: 499 })).toMatchObject({ status: 499, code: 'INVALID_ARGUMENT', unexpected: false });
  });
  it.each([
    [{ statusCode: 399, message: 'x' }],
    [{ statusCode: 500, message: 'x' }],
    [{ statusCode: '400', message: 'x' }],
    [{ code: 'ECONNRESET' }],
    [{ code: 7 }],
    [null],
    ['a string'],
    [undefined],
  ])('hides %p behind 500 INTERNAL', (err) => {
    expect(toErrorInfo(err)).toEqual({ status: 500, code: 'INTERNAL', message: 'Unknown server error. Typically a server bug.', unexpected: true });
  });
});

import type { ArgumentMetadata } from '@nestjs/common';
import { ValidationError } from 'class-validator';
import { IsOptional, IsString, IsUrl } from 'class-validator';
import { ApiError, ApiErrorCode } from '../errors/api-error';
import { camaraValidationPipe, errorCode, toValidationError } from './validation.pipe';

/** A class-validator failure as the pipe receives it. */
function failure(property: string, constraints: Record<string, string> | undefined, more: Partial<ValidationError> = {}): ValidationError {
  return Object.assign(new ValidationError(), { property, constraints, children: [], ...more });
}

describe(toValidationError.name, () => {
  it.each<[string, ValidationError[], ApiErrorCode, string]>([
    ['a rule whose text starts with the property', [failure('sink', { isUrl: 'sink must be a URL' })], 'INVALID_ARGUMENT', 'sink must be a URL'],
    ['a rule whose text does not name the property', [failure('sink', { custom: 'must be https' })], 'INVALID_ARGUMENT', 'sink: must be https'],
    [
      'a nested rule naming its property',
      [failure('config', undefined, { children: [failure('types', { arrayNotEmpty: 'types should not be empty' })] })],
      'INVALID_ARGUMENT',
      'config.types should not be empty',
    ],
    ['a nested rule not naming it', [failure('config', undefined, { children: [failure('types', { custom: 'unknown type' })] })], 'INVALID_ARGUMENT', 'config.types: unknown type'],
    [
      'two levels down',
      [failure('config', undefined, { children: [failure('subscriptionDetail', undefined, { children: [failure('deviceId', { isUuid: 'deviceId must be a UUID' })] })] })],
      'INVALID_ARGUMENT',
      'config.subscriptionDetail.deviceId must be a UUID',
    ],
    [
      'a parent rule and its child',
      [failure('config', { isObject: 'config must be an object' }, { children: [failure('a', { x: 'a bad' })] })],
      'INVALID_ARGUMENT',
      'config must be an object; config.a bad',
    ],
    ['the code a rule names', [failure('sink', { isUrl: 'sink must be a URL' }, { contexts: { isUrl: errorCode('INVALID_SINK') } })], 'INVALID_SINK', 'sink must be a URL'],
    [
      'a code named for another rule of the property',
      [failure('sink', { isUrl: 'sink must be a URL' }, { contexts: { maxLength: errorCode('INVALID_SINK') } })],
      'INVALID_ARGUMENT',
      'sink must be a URL',
    ],
    [
      'two rules that name the same code',
      [failure('sink', { isUrl: 'sink must be a URL', maxLength: 'sink is too long' }, { contexts: { isUrl: errorCode('INVALID_SINK'), maxLength: errorCode('INVALID_SINK') } })],
      'INVALID_SINK',
      'sink must be a URL; sink is too long',
    ],
    [
      'rules that name different codes',
      [
        failure('sink', { isUrl: 'sink must be a URL' }, { contexts: { isUrl: errorCode('INVALID_SINK') } }),
        failure('protocol', { isIn: 'protocol must be HTTP' }, { contexts: { isIn: errorCode('INVALID_PROTOCOL') } }),
      ],
      'INVALID_ARGUMENT',
      'sink must be a URL; protocol must be HTTP',
    ],
    [
      'a rule with a code beside one without',
      [failure('sink', { isUrl: 'sink must be a URL' }, { contexts: { isUrl: errorCode('INVALID_SINK') } }), failure('types', { isArray: 'types must be an array' })],
      'INVALID_ARGUMENT',
      'sink must be a URL; types must be an array',
    ],
    ['no failure text at all', [], 'INVALID_ARGUMENT', 'Invalid request.'],
    ['a failure without constraints or children', [failure('x', undefined, { children: undefined })], 'INVALID_ARGUMENT', 'Invalid request.'],
  ])('%s', (_, errors, code, message) => {
    const e = toValidationError(errors);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.toJSON()).toStrictEqual({ status: 400, code, message });
  });

  it('cuts the message at 500 characters', () => {
    const e = toValidationError([failure('a', { x: `a ${'x'.repeat(400)}` }), failure('b', { y: `b ${'y'.repeat(400)}` })]);
    expect(e.message).toHaveLength(500);
    expect(e.message.startsWith(`a ${'x'.repeat(400)}; b yy`)).toBe(true);
  });
});

class Probe {
  @IsUrl({ require_protocol: true }, { context: errorCode('INVALID_SINK') })
  sink!: string;

  @IsOptional()
  @IsString()
  note?: string;
}

describe(camaraValidationPipe.name, () => {
  const meta: ArgumentMetadata = { type: 'body', metatype: Probe };

  it('returns an instance of the DTO, unknown properties stripped rather than refused', async () => {
    const out: unknown = await camaraValidationPipe().transform({ sink: 'https://app.example.com/cb', clientCorrelator: 'c-1' }, meta);
    expect(out).toBeInstanceOf(Probe);
    expect(out).toStrictEqual(Object.assign(new Probe(), { sink: 'https://app.example.com/cb' }));
  });

  it("reports a failure with the rule's CAMARA code, through toValidationError", async () => {
    await expect(camaraValidationPipe().transform({ sink: 'not a url' }, meta)).rejects.toStrictEqual(new ApiError(400, 'INVALID_SINK', 'sink must be a URL address'));
    await expect(camaraValidationPipe().transform({ sink: 'https://app.example.com/cb', note: 7 }, meta)).rejects.toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: 'note must be a string',
    });
  });
});

import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { compiledValidatorOf, compileMarkedValidators } from '../validation/compiled-schema';
import { ApiError, ApiErrorCode } from '../errors/api-error';

/**
 * A DTO rule may name the CAMARA code its failure is reported with, through class-validator's
 * `context` (e.g. `@IsString({ context: errorCode('INVALID_SINK') })`); otherwise INVALID_ARGUMENT.
 */
export const errorCode = (code: ApiErrorCode): { code: ApiErrorCode } => ({ code });

interface Failure {
  message: string;
  code: ApiErrorCode | undefined;
}

function flatten(errors: ValidationError[], parent = ''): Failure[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.entries(e.constraints ?? {}).map(([name, m]) => {
      const context = e.contexts?.[name] as { code?: ApiErrorCode } | undefined;
      return { message: m.startsWith(e.property) ? `${parent ? parent + '.' : ''}${m}` : `${path}: ${m}`, code: context?.code };
    });
    return own.concat(flatten(e.children ?? [], path));
  });
}

/** One code for the whole response: the rules' own code when they all agree, else INVALID_ARGUMENT. */
export function toValidationError(errors: ValidationError[]): ApiError {
  const failures = flatten(errors);
  const codes = new Set(failures.map((f) => f.code));
  const [only] = codes;
  const code = codes.size === 1 && only !== undefined ? only : 'INVALID_ARGUMENT';
  return new ApiError(
    400,
    code,
    failures
      .map((f) => f.message)
      .join('; ')
      .slice(0, 500) || 'Invalid request.',
  );
}

const OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: false,
  transform: true,
  validationError: { target: false, value: false },
  exceptionFactory: toValidationError,
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Validation before any lookup. Unknown extra properties are stripped, not rejected (the CAMARA
 * test definitions send `clientCorrelator`). A body DTO marked `@CompiledValidation()` is first
 * checked by its schema compiled once (common/validation/compiled-schema.ts): a body it accepts is
 * used as it is (unknown properties stripped); every other body goes through class-validator, which
 * writes the error, so the CAMARA error responses are the same whichever path ran.
 */
@Injectable()
export class CamaraValidationPipe extends ValidationPipe {
  constructor() {
    super(OPTIONS);
    compileMarkedValidators();
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && isPlainObject(value)) {
      const fast = compiledValidatorOf(metadata.metatype);
      if (fast?.(value)) return value;
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

export const camaraValidationPipe = (): ValidationPipe => new CamaraValidationPipe();

import { ValidationError, ValidationPipe } from '@nestjs/common';
import { invalidArgument } from '../errors/api-error';

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => (m.startsWith(e.property) ? `${parent ? parent + '.' : ''}${m}` : `${path}: ${m}`));
    return own.concat(flatten(e.children ?? [], path));
  });
}

/**
 * Validation before any lookup. Unknown extra properties are stripped, not rejected (the CAMARA
 * test definitions send `clientCorrelator`).
 */
export const camaraValidationPipe = (): ValidationPipe =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: false,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => invalidArgument(flatten(errors).join('; ').slice(0, 500) || 'Invalid request.'),
  });

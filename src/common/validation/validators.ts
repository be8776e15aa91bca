import { isValid, parseISO } from 'date-fns';
import { registerDecorator, ValidateIf, ValidationOptions } from 'class-validator';

/**
 * Like `@IsOptional()`, but only an absent property is skipped: an explicit `null` is validated
 * (and refused by the property's other rules). CAMARA schemas declare no nullable field, so
 * `"callType": null` is a type error, not "no callType".
 */
export function IsOptionalNotNull(): PropertyDecorator {
  return ValidateIf(isPresent);
}

/** The condition of `@IsOptionalNotNull()`: one function, so the compiled schemas can recognise it. */
export function isPresent(_object: object, value: unknown): boolean {
  return value !== undefined;
}

/** RFC 3339 `date-time` with a time offset (CAMARA: "must have time zone"). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 date-time that names a real instant: `2026-11-31T02:30:00Z` is refused, not read as 1 December. */
export function isCalendarDateTime(value: unknown): boolean {
  if (typeof value !== 'string' || !RFC3339.test(value)) return false;
  // date-fns checks days per month (leap years included) and the hour/minute/second ranges.
  return isValid(parseISO(value.toUpperCase()));
}

export const CALENDAR_DATE_TIME = 'isCalendarDateTime';

export function IsCalendarDateTime(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: CALENDAR_DATE_TIME,
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must be a valid RFC 3339 date-time with a time offset`, ...options },
      validator: { validate: isCalendarDateTime },
    });
}

import Ajv, { ValidateFunction } from 'ajv';
import {
  ARRAY_MAX_SIZE,
  ARRAY_MIN_SIZE,
  ARRAY_UNIQUE,
  EQUALS,
  getMetadataStorage,
  IS_ARRAY,
  IS_BOOLEAN,
  IS_IN,
  IS_INT,
  IS_OBJECT,
  IS_STRING,
  IS_UUID,
  MATCHES,
  MAX,
  MAX_LENGTH,
  MIN,
  ValidationTypes,
} from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import type { SchemaObject } from 'ajv';
import { CALENDAR_DATE_TIME, isCalendarDateTime, isPresent } from './validators';

/**
 * The hot request bodies are checked by a JSON Schema validator compiled once (ajv), generated from
 * the same class-validator DTOs that stay the contract. The fast path only ever says "valid": a body
 * it refuses goes through class-validator, which writes the CAMARA error exactly as before. So a
 * schema a little stricter than the DTO costs a slow path, never a wrong answer; a schema more
 * lenient than the DTO would be a bug, and `test/unit/compiled-validation.spec.ts` runs both on one
 * table of bodies to show it is not. (Known stricter spots: ajv counts U+FE0F/U+20E3 in `maxLength`,
 * validator.js does not.)
 *
 * The one custom rule, `@IsCalendarDateTime` (a real calendar date, which a pattern cannot say),
 * is compiled as the ajv keyword `calendarDateTime` running the very function class-validator runs.
 *
 * Only rules whose JSON Schema means exactly what class-validator checks are compiled; a DTO using
 * another rule (a custom validator other than the calendar date-time, a `@ValidateIf` other than
 * `@IsOptionalNotNull`, a regular expression with flags, `each` on anything but `@IsIn`…) gets no
 * compiled schema and keeps class-validator alone.
 */

type Ctor = abstract new (...args: never[]) => unknown;

/** Marks a DTO whose body validation is compiled (see the top of this file). */
const marked = new Set<Ctor>();
export function CompiledValidation(): ClassDecorator {
  return (target) => {
    marked.add(target as unknown as Ctor);
  };
}

/** validator.js `isUUID(value, 'all')`, which `@IsUUID('all')` runs (ajv-formats' `uuid` also takes `urn:uuid:`). */
const UUID_ALL = '^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|[fF]{8}-[fF]{4}-[fF]{4}-[fF]{4}-[fF]{12})$';
/** Marks a property that must be absent (`@Equals(undefined)`): removed from `required` below. */
const ABSENT = 'x-absent';

/** Rules with an exact JSON Schema, by class-validator constraint name, with the check that their arguments are the supported ones. */
const EXACT: Record<string, (m: ValidationMetadata) => boolean> = {
  [IS_STRING]: () => true,
  [MAX_LENGTH]: () => true,
  [IS_IN]: () => true,
  [IS_OBJECT]: () => true,
  [IS_ARRAY]: () => true,
  [ARRAY_MIN_SIZE]: () => true,
  [ARRAY_MAX_SIZE]: () => true,
  [ARRAY_UNIQUE]: (m) => m.constraints?.[0] === undefined,
  [IS_INT]: () => true,
  [MIN]: () => true,
  [MAX]: () => true,
  [IS_BOOLEAN]: () => true,
  [CALENDAR_DATE_TIME]: () => true,
  [MATCHES]: (m) => m.constraints?.[0] instanceof RegExp && m.constraints[0].flags === '',
  [IS_UUID]: (m) => m.constraints?.[0] === 'all',
  [EQUALS]: (m) => m.constraints?.[0] === undefined,
  [ValidationTypes.NESTED_VALIDATION]: () => true,
  [ValidationTypes.WHITELIST]: () => true,
  [ValidationTypes.CONDITIONAL_VALIDATION]: (m) => m.constraints?.[0] === isPresent,
};

const storage = getMetadataStorage();

function ruleName(m: ValidationMetadata): string {
  if (m.constraintCls) {
    const [constraint] = storage.getTargetValidatorConstraints(m.constraintCls);
    if (constraint?.name) return constraint.name;
  }
  return m.type;
}

/** The DTO and every nested DTO it validates, or undefined when one of them uses a rule without an exact schema. */
function classesOf(cls: Ctor, seen = new Set<Ctor>()): Set<Ctor> | undefined {
  if (seen.has(cls)) return seen;
  seen.add(cls);
  for (const m of storage.getTargetValidationMetadatas(cls, '', true, false)) {
    const name = ruleName(m);
    const exact = EXACT[name];
    if (!exact?.(m) || (m.each === true && name !== IS_IN) || (m.groups && m.groups.length > 0)) return undefined;
    if (name === ValidationTypes.NESTED_VALIDATION) {
      const nested = Reflect.getMetadata('design:type', cls.prototype as object, m.propertyName) as Ctor | undefined;
      if (!nested || nested === Object || !classesOf(nested, seen)) return undefined;
    }
  }
  return seen;
}

/** Every class whose name the generated `definitions` use must be the only class of that name. */
function namesAreUnique(classes: Set<Ctor>): boolean {
  const byName = new Map<string, Set<unknown>>();
  // class-validator keeps its metadata in a private map (the same one class-validator-jsonschema reads)
  for (const m of (storage as unknown as { validationMetadatas: Map<unknown, ValidationMetadata[]> }).validationMetadatas.values()) {
    for (const v of m) {
      if (typeof v.target !== 'function') continue;
      const set = byName.get(v.target.name) ?? new Set<unknown>();
      set.add(v.target);
      byName.set(v.target.name, set);
    }
  }
  return [...classes].every((c) => (byName.get(c.name)?.size ?? 0) <= 1);
}

function generateDefinitions(): Record<string, SchemaObject> {
  const schemas = validationMetadatasToSchemas({
    refPointerPrefix: '#/definitions/',
    additionalConverters: {
      [IS_UUID]: { type: 'string', pattern: UUID_ALL },
      [CALENDAR_DATE_TIME]: { type: 'string', calendarDateTime: true } as SchemaObject,
      [EQUALS]: (meta) => (meta.constraints[0] === undefined ? { [ABSENT]: true, not: {} } : undefined),
    },
  }) as Record<string, SchemaObject>;
  for (const schema of Object.values(schemas)) {
    const props = (schema.properties ?? {}) as Record<string, SchemaObject>;
    const absent = Object.keys(props).filter((k) => props[k]?.[ABSENT] === true);
    for (const k of absent) props[k] = { not: {} };
    if (Array.isArray(schema.required)) {
      const required = (schema.required as string[]).filter((k) => !absent.includes(k));
      if (required.length > 0) schema.required = required;
      else delete schema.required;
    }
    // class-validator's `whitelist`: unknown properties of a DTO are stripped (removeAdditional), not refused.
    schema.additionalProperties = false;
  }
  return schemas;
}

function createAjv(): Ajv {
  // unicodeRegExp: false — patterns compile as the DTOs' own RegExp literals do (no `u` flag).
  const ajv = new Ajv({ removeAdditional: true, unicodeRegExp: false, allErrors: false, strict: true, strictTypes: false });
  ajv.addKeyword({ keyword: 'calendarDateTime', type: 'string', schemaType: 'boolean', validate: (_s: boolean, data: string) => isCalendarDateTime(data), errors: false });
  return ajv;
}

let definitions: Record<string, SchemaObject> | undefined;
let ajv: Ajv | undefined;
const compiled = new Map<Ctor, ValidateFunction | null>();

/**
 * The compiled validator of a DTO marked with `@CompiledValidation()` (compiled on first use, once),
 * or undefined when the DTO is not marked or cannot be expressed exactly.
 * It strips unknown properties in place, like class-validator's `whitelist`.
 */
export function compiledValidatorOf(cls: unknown): ValidateFunction | undefined {
  if (typeof cls !== 'function') return undefined;
  const ctor = cls as Ctor;
  const known = compiled.get(ctor);
  if (known !== undefined) return known ?? undefined;
  let fn: ValidateFunction | null = null;
  const classes = marked.has(ctor) ? classesOf(ctor) : undefined;
  if (classes && namesAreUnique(classes)) {
    if (!definitions?.[ctor.name]) definitions = generateDefinitions();
    ajv ??= createAjv();
    const own = definitions[ctor.name];
    if (own) fn = ajv.compile({ ...own, definitions });
  }
  compiled.set(ctor, fn);
  return fn ?? undefined;
}

/** Compiles every marked DTO now (at boot), so that no request pays for it. */
export function compileMarkedValidators(): void {
  for (const cls of marked) compiledValidatorOf(cls);
}

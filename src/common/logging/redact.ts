/** What a censored value is written as. */
export const CENSOR = '[redacted]';

/** How deep in a log line's object keys are looked at: `req.headers.authorization` is depth 3. */
export const REDACT_DEPTH = 3;

type Fields = Record<string, unknown>;

function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A pino `formatters.log` that replaces the value of every key named in `keys`, at every depth up to
 * REDACT_DEPTH in plain objects, with CENSOR. One walk over the line's own fields, copying only the
 * objects it changes (the caller's objects are never modified); no wildcard paths.
 */
export function keyRedactor(keys: readonly string[]): (fields: Fields) => Fields {
  const secret = new Set(keys);
  const walk = (fields: Fields, depth: number): Fields => {
    let out: Fields | undefined;
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      const next = secret.has(key) ? CENSOR : depth < REDACT_DEPTH && isPlainObject(value) ? walk(value, depth + 1) : value;
      if (next !== value) {
        out ??= { ...fields };
        out[key] = next;
      }
    }
    return out ?? fields;
  };
  return (fields) => walk(fields, 1);
}

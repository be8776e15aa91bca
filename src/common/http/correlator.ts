import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** CAMARA `XCorrelator` pattern (CAMARA_common.yaml). */
export const X_CORRELATOR_PATTERN = /^[a-zA-Z0-9-_:;./<>{}]{0,256}$/;

type WithCorrelator = IncomingMessage & { correlator?: string; correlatorInvalid?: boolean };

/**
 * The request's correlator: the client's `x-correlator` when it matches the CAMARA pattern, else a
 * fresh UUID (and the request is marked invalid, to be answered 400). Cached on the raw request so
 * the logger and the HTTP layer agree.
 */
export function correlatorOf(raw: IncomingMessage): string {
  const r = raw as WithCorrelator;
  if (r.correlator === undefined) {
    const header = raw.headers['x-correlator'];
    const value = Array.isArray(header) ? header[0] : header;
    if (value === undefined || value === '') {
      r.correlator = randomUUID();
    } else if (X_CORRELATOR_PATTERN.test(value)) {
      r.correlator = value;
    } else {
      r.correlator = randomUUID();
      r.correlatorInvalid = true;
    }
  }
  return r.correlator;
}

export function isCorrelatorInvalid(raw: IncomingMessage): boolean {
  correlatorOf(raw);
  return (raw as WithCorrelator).correlatorInvalid === true;
}

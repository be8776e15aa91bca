import type { Counter } from 'prom-client';
import { sipCodeLabel, sipMethodLabel, type SipDirection } from './labels';

type Labels = 'direction' | 'method' | 'kind' | 'code';

/** Counts of one method label: requests, and responses by code (100..699, and `other`). */
interface MethodTally {
  label: string;
  requests: number;
  responses: Float64Array;
  otherCodes: number;
}

/**
 * The per-message SIP counter without a label lookup per message: `count` adds one to a slot found
 * by direction, method and code (no label object, no hashing, no allocation once a method was seen);
 * the prom-client counter reads the totals when scraped (`collect`). Slots exist only for method
 * labels (`sipMethodLabel`: a fixed set plus `other`), so the tally stays bounded whatever arrives.
 */
export class SipMessageTally {
  private readonly byDirection: Record<SipDirection, Map<string, MethodTally>> = { in: new Map(), out: new Map() };

  count(direction: SipDirection, method: string, code?: number): void {
    const methods = this.byDirection[direction === 'in' ? 'in' : 'out'];
    // a method as sent is usually its own label (upper case, known): one Map lookup
    let t = methods.get(method);
    if (t === undefined) {
      const label = sipMethodLabel(method);
      t = methods.get(label);
      if (t === undefined) {
        t = { label, requests: 0, responses: new Float64Array(600), otherCodes: 0 };
        methods.set(label, t);
      }
    }
    if (code === undefined) t.requests++;
    else if (Number.isInteger(code) && code >= 100 && code <= 699) t.responses[code - 100] = (t.responses[code - 100] ?? 0) + 1;
    else t.otherCodes++;
  }

  /** Writes the totals into `counter` (reset first: the tally holds the running totals). */
  collectInto(counter: Counter<Labels>): void {
    counter.reset();
    for (const direction of ['in', 'out'] as const) {
      for (const t of this.byDirection[direction].values()) {
        const base = { direction, method: t.label };
        if (t.requests > 0) counter.inc({ ...base, kind: 'request', code: sipCodeLabel(undefined) }, t.requests);
        for (let i = 0; i < t.responses.length; i++) {
          const n = t.responses[i] ?? 0;
          if (n > 0) counter.inc({ ...base, kind: 'response', code: sipCodeLabel(i + 100) }, n);
        }
        if (t.otherCodes > 0) counter.inc({ ...base, kind: 'response', code: sipCodeLabel(Number.NaN) }, t.otherCodes);
      }
    }
  }
}

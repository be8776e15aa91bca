/**
 * Pure parts of the phase after the calls stop (`phases.afterCallsStop`): when to read, and what
 * the readings say. RSS over a whole run grows while the load rises; whether memory is held for
 * good is seen once no call is running: RSS should stop growing, and the heap (after a forced
 * GC) should come back near what it was before the load.
 */
import { round } from './stats';

/**
 * Seconds after the calls stop at which RSS and heap are read. +35 s is past the INVITE client
 * transaction's Timer D (32 s over UDP, RFC 3261 §17.1.1.2) and the other 64·T1 waits (Timer J,
 * §17.2.2), so the transactions of the last calls are gone; +70 s is past the event delivery's
 * retries and the cluster leases as well. A smoke run only checks the path.
 */
export function afterStopOffsetsS(smoke: boolean): number[] {
  return smoke ? [0, 2] : [0, 35, 70];
}

/** RSS may rise this much (% of the reading at +0 s) by the last reading and still count as flat. */
export const RSS_FLAT_TOLERANCE_PCT = 2;

export interface AfterStopSample {
  /** seconds since the calls stopped, as actually read */
  atS: number;
  rssMiB: number | null;
  /** V8 heap used after a forced full GC (null when the inspector is unavailable) */
  heapMiB: number | null;
}

export interface AfterStopFigures {
  /** RSS at the last reading against the first, % */
  rssChangePct: number | null;
  /** heap at the last reading against the first, % */
  heapChangePct: number | null;
  /** heap at the last reading against the heap read before the first call phase, % */
  heapVsBeforeLoadPct: number | null;
  /** RSS at the last reading ≤ RSS at the first + RSS_FLAT_TOLERANCE_PCT (null: not enough readings) */
  rssFlat: boolean | null;
}

const changePct = (from: number | null | undefined, to: number | null | undefined): number | null => (from == null || to == null || from <= 0 ? null : round((100 * (to - from)) / from, 1));

/** What the readings after the calls stopped say; `heapBeforeLoadMiB` is the heap read before the first call phase. */
export function afterStopFigures(samples: readonly AfterStopSample[], heapBeforeLoadMiB: number | null): AfterStopFigures {
  const first = samples[0];
  const last = samples.length > 1 ? samples[samples.length - 1] : undefined;
  const rssFirst = first?.rssMiB;
  const rssLast = last?.rssMiB;
  return {
    rssChangePct: changePct(rssFirst, rssLast),
    heapChangePct: changePct(first?.heapMiB, last?.heapMiB),
    heapVsBeforeLoadPct: changePct(heapBeforeLoadMiB, last?.heapMiB),
    rssFlat: rssFirst == null || rssLast == null || rssFirst <= 0 ? null : rssLast <= rssFirst * (1 + RSS_FLAT_TOLERANCE_PCT / 100),
  };
}

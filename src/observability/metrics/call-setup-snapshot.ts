/** What the live dashboard reads about call setup (GatewayMetrics.callSetupSnapshot), and the RFC 6076 ratios over it. */
import type { Distribution, SecondCounts } from './call-window';
import type { CallDirection } from './labels';

/** One failed call setup as shown on the dashboard. No phone numbers, no ids. */
export interface CallFailure {
  /** ISO 8601 */
  time: string;
  direction: CallDirection;
  status: string;
  /** SIP final response, `null` when none came (timeout, transport error). */
  sipCode: number | null;
  reason: string | null;
}

/** What the dashboard shows about call setup over the last 15 minutes. */
export interface CallSetupSnapshot {
  windowS: number;
  /** One entry per `bucketS` seconds, oldest first. Rates are per second; ratios are percentages over the preceding minute. */
  series: { bucketS: number; t: number[]; attemptsPerS: number[]; answeredPerS: number[]; failedPerS: number[]; serPct: Array<number | null> };
  totals: { last1m: SetupTotals; last5m: SetupTotals; last15m: SetupTotals };
  /** INVITE → 2xx, ms. */
  setupTimeMs: Distribution;
  /** INVITE → first 18x (post-dial delay), ms. */
  postDialDelayMs: Distribution;
  /** Newest first. */
  failures: CallFailure[];
}

export interface SetupTotals extends SecondCounts {
  /** RFC 6076 SER, %: answered / (attempts concluded − 3xx). `null` when nothing concluded. */
  serPct: number | null;
  /** RFC 6076 SEER, %: (answered + 480/486/600/603) / (concluded − 3xx). */
  seerPct: number | null;
  /** ITU-T E.411 ASR, %: answered / concluded. */
  asrPct: number | null;
}

const pct = (num: number, den: number): number | null => (den > 0 ? Math.round((1000 * num) / den) / 10 : null);

export function setupTotals(c: SecondCounts): SetupTotals {
  const concluded = c.answered + c.failed;
  const den = concluded - c.redirected;
  return { ...c, serPct: pct(c.answered, den), seerPct: pct(c.answered + c.effectiveFailures, den), asrPct: pct(c.answered, concluded) };
}

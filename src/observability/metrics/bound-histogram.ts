import { Metric, Registry } from 'prom-client';

/** One exported sample, in the shape prom-client's Registry formats. */
export interface HistogramSample {
  labels: { le?: number | string };
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
}

interface Series<L extends string> {
  labels: Record<L, string>;
  /** observations per bucket (not cumulative), one slot per upper bound */
  perBucket: number[];
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram for the hot path: `observe` finds its series with one Map lookup on the
 * label values (callers pass values already normalised by labels.ts, so the set stays bounded)
 * instead of prom-client's label validation, label-object hashing and closure per observation.
 * `get()` returns exactly what prom-client's Histogram returns, so /metrics is the same text
 * (series in first-observed order, cumulative `_bucket` with `le`, `+Inf`, `_sum`, `_count`).
 */
export class BoundHistogram<L extends string = never> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series<L>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly upperBounds: readonly number[],
    registers: readonly Registry[],
  ) {
    if (labelNames.length === 0) this.reset();
    for (const r of registers) r.registerMetric(this as unknown as Metric);
  }

  /** `labels` must hold exactly the label names given at construction. */
  observe(labels: Record<L, string>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const names = this.labelNames;
    const key = names.length === 1 && names[0] !== undefined ? labels[names[0]] : names.map((n) => labels[n]).join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, perBucket: this.upperBounds.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && !(value <= (bounds[i] ?? Infinity))) i++;
    if (i < bounds.length) s.perBucket[i] = (s.perBucket[i] ?? 0) + 1;
    s.sum += value;
    s.count += 1;
  }

  /** As prom-client's `get()`: each sample's series labels merged after its `le`. */
  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: Array<Omit<HistogramSample, 'sharedLabels' | 'labels'> & { labels: Record<string, string | number> }>;
    aggregator: 'sum';
  }> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })) };
  }

  /** What the Registry formats as text (the series labels apart, as prom-client keeps them). */
  getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: HistogramSample[]; aggregator: 'sum' }> {
    const values: HistogramSample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      this.upperBounds.forEach((le, i) => {
        acc += s.perBucket[i] ?? 0;
        values.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: bucket });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** Forgets every series (a histogram without labels keeps its one series, at zero). */
  reset(): void {
    this.series.clear();
    if (this.labelNames.length === 0) this.series.set('', { labels: {} as Record<L, string>, perBucket: this.upperBounds.map(() => 0), sum: 0, count: 0 });
  }
}

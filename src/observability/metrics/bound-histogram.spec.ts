import { Histogram, Registry } from 'prom-client';
import { BoundHistogram } from './bound-histogram';

const BUCKETS = [0.001, 0.01, 0.1, 1];
type Obs = Array<[Record<'store' | 'operation', string>, number]>;

/** The same observations through prom-client's Histogram and through BoundHistogram, each in its own registry. */
function both(observations: Obs, labelNames: Array<'store' | 'operation'> = ['store', 'operation']): { ours: Registry; theirs: Registry } {
  const ours = new Registry();
  const theirs = new Registry();
  const a = new BoundHistogram('h_seconds', 'help text', labelNames, BUCKETS, [ours]);
  const b = new Histogram({ name: 'h_seconds', help: 'help text', labelNames, buckets: BUCKETS, registers: [theirs] });
  for (const [labels, v] of observations) {
    a.observe(labels, v);
    b.observe(labels, v);
  }
  return { ours, theirs };
}

describe(BoundHistogram.name, () => {
  const obs: Obs = [
    [{ store: 'redis', operation: 'session.create' }, 0.0004],
    [{ store: 'redis', operation: 'session.update' }, 0.02],
    [{ store: 'redis', operation: 'session.create' }, 0.001],
    [{ store: 'memory', operation: 'session.create' }, 3],
    [{ store: 'redis', operation: 'session.update' }, 0.5],
  ];

  it('exposes the same text as prom-client for the same observations (names, labels, buckets, sum, count, order)', async () => {
    const { ours, theirs } = both(obs);
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    // positive control: the series are really there
    expect(text).toContain('h_seconds_bucket{le="0.001",store="redis",operation="session.create"} 2');
    expect(text).toContain('h_seconds_count{store="redis",operation="session.update"} 2');
  });

  it('returns the same JSON as prom-client (labels merged after le)', async () => {
    const { ours, theirs } = both(obs);
    const strip = (m: Awaited<ReturnType<Registry['getMetricsAsJSON']>>): unknown =>
      m.map((x) => ({ ...x, values: x.values.map((v) => ({ labels: v.labels, value: v.value, metricName: (v as { metricName?: string }).metricName })) }));
    expect(strip(await ours.getMetricsAsJSON())).toEqual(strip(await theirs.getMetricsAsJSON()));
  });

  it('without labels exposes a zero series before any observation, like prom-client, and again after a reset', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const a = new BoundHistogram('e_seconds', 'h', [], BUCKETS, [ours]);
    const b = new Histogram({ name: 'e_seconds', help: 'h', buckets: BUCKETS, registers: [theirs] });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('e_seconds_count 0');
    a.observe({}, 0.05);
    b.observe(0.05);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('e_seconds_count 1');
    a.reset();
    expect(await ours.metrics()).toContain('e_seconds_count 0');
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const h = new BoundHistogram('x_seconds', 'h', ['store'], BUCKETS, []);
    expect(() => h.observe({ store: 's' }, Number.NaN)).toThrow(TypeError);
    expect(() => h.observe({ store: 's' }, 1)).not.toThrow();
  });
});

import { instrumentStore } from './instrument-store';
import type { StoreTelemetry } from './store-telemetry';

abstract class Store {
  abstract get(id: string): Promise<string | undefined>;
}

class MemoryStore extends Store {
  readonly #data = new Map<string, string>([['a', 'A']]);
  calls = 0;
  async get(id: string): Promise<string | undefined> {
    this.calls++;
    return this.#data.get(id);
  }
  async failing(): Promise<void> {
    throw new Error('ECONNREFUSED');
  }
  syncThrow(): number {
    throw new TypeError('bad');
  }
  size(): number {
    return this.#data.size;
  }
}

function sink(): StoreTelemetry & { records: Array<{ store: string; operation: string; failed: boolean; durationMs: number }> } {
  const records: Array<{ store: string; operation: string; failed: boolean; durationMs: number }> = [];
  return { records, storeOperation: (store, operation, durationMs, failed) => records.push({ store, operation, durationMs, failed }) };
}

describe(instrumentStore.name, () => {
  it('times every async method and passes the result through', async () => {
    const s = sink();
    const store = instrumentStore(new MemoryStore(), 'session', s);
    await expect(store.get('a')).resolves.toBe('A');
    expect(s.records).toEqual([{ store: 'session', operation: 'get', failed: false, durationMs: expect.any(Number) }]);
    expect(s.records[0]?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('counts a rejection as an error and re-throws it unchanged (Redis down)', async () => {
    const s = sink();
    const store = instrumentStore(new MemoryStore(), 'registration', s);
    await expect(store.failing()).rejects.toThrow('ECONNREFUSED');
    expect(s.records).toEqual([{ store: 'registration', operation: 'failing', failed: true, durationMs: expect.any(Number) }]);
  });

  it('measures synchronous methods and synchronous throws too', () => {
    const s = sink();
    const store = instrumentStore(new MemoryStore(), 'x', s);
    expect(store.size()).toBe(1);
    expect(() => store.syncThrow()).toThrow(TypeError);
    expect(s.records.map((r) => [r.operation, r.failed])).toEqual([
      ['size', false],
      ['syncThrow', true],
    ]);
  });

  it('keeps instanceof, private fields and state on the real object', async () => {
    const real = new MemoryStore();
    const store = instrumentStore(real, 'x', sink());
    expect(store).toBeInstanceOf(Store);
    expect(store).toBeInstanceOf(MemoryStore);
    await store.get('a');
    expect(real.calls).toBe(1);
    expect(store.calls).toBe(1);
    expect(store.get).toBe(store.get); // one wrapper per method
  });
});

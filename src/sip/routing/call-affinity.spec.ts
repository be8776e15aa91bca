import { CallAffinity } from './call-affinity';

const p1 = { address: '192.0.2.1', port: 5060 };
const p2 = { address: '192.0.2.2', port: 5060 };
const p3 = { address: '192.0.2.3', port: 5060 };

describe('CallAffinity', () => {
  it("puts the Call-ID's target first when usable, and leaves the list alone otherwise", () => {
    const a = new CallAffinity();
    a.remember('c1', p3);
    expect(a.order('c1', [p1, p2, p3], () => true)).toEqual([p3, p1, p2]);
    expect(a.order('c1', [p1, p2, p3], (p) => p !== p3)).toEqual([p1, p2, p3]);
    expect(a.order('c2', [p1, p2, p3], () => true)).toEqual([p1, p2, p3]);
    expect(a.order('c1', [p1, p2], () => true)).toEqual([p1, p2]); // no longer a target (DNS changed)
  });

  it('forgets a Call-ID after the TTL', () => {
    const clock = { t: 0 };
    const a = new CallAffinity(() => clock.t, 1000);
    a.remember('c1', p2);
    clock.t = 999;
    expect(a.of('c1')).toEqual(p2);
    clock.t = 1000;
    expect(a.of('c1')).toBeUndefined();
    expect(a.size).toBe(0);
  });

  it('forgets a Call-ID on request, and only that one', () => {
    const a = new CallAffinity();
    a.remember('c1', p1);
    a.remember('c2', p2);
    a.forget('c1');
    expect([a.of('c1'), a.of('c2')]).toEqual([undefined, p2]);
    expect(a.size).toBe(1);
  });

  it('keeps at most `max` Call-IDs, dropping the least recently used', () => {
    const a = new CallAffinity(Date.now, 60_000, 2);
    a.remember('c1', p1);
    a.remember('c2', p2);
    a.remember('c1', p1); // used again: now the newest
    a.remember('c3', p3);
    expect([a.of('c1'), a.of('c2'), a.of('c3')]).toEqual([p1, undefined, p3]);
    expect(a.size).toBe(2);
  });
});

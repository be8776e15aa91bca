/**
 * Branches (RFC 3261 §8.1.1.7) and tags (§19.3) come from one pooled CSPRNG buffer: 4096 bytes,
 * refilled only once used up (256 branches of 16 bytes, or 512 tags of 8).
 */

const fills: number[] = [];
jest.mock('node:crypto', () => {
  const real = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return {
    ...real,
    randomFillSync: (buf: Buffer) => {
      fills.push(buf.length);
      return real.randomFillSync(buf);
    },
  };
});

import { generateBranch, generateTag } from './sip-syntax';

describe('pooled random ids', () => {
  const rows = [
    { name: 'branches', make: generateBranch, perPool: 256, shape: /^z9hG4bK[0-9a-f]{32}$/ },
    { name: 'tags', make: generateTag, perPool: 512, shape: /^[0-9a-f]{16}$/ },
  ];
  it.each(rows)('$name: one refill per $perPool ids, each id well formed and distinct', ({ make, perPool, shape }) => {
    // use up whatever is left in the pool: the last id drawn is the first of a fresh fill
    const before = fills.length;
    while (fills.length === before) make();
    const start = fills.length;
    const ids = new Set<string>();
    // perPool - 1 more ids fit in that fill
    for (let i = 0; i < perPool - 1; i++) ids.add(make());
    const within = fills.length - start;
    ids.add(make());
    expect(within).toBe(0);
    expect(fills.length - start).toBe(1); // positive control: the id past the pool refills it
    expect(fills.every((n) => n === 4096)).toBe(true);
    expect(ids.size).toBe(perPool);
    for (const id of ids) expect(id).toMatch(shape);
  });
});

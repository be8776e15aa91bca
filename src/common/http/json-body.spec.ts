import { jsonDepthExceeds } from './json-body';

describe('jsonDepthExceeds', () => {
  it('counts objects and arrays, not brackets inside strings', () => {
    expect(jsonDepthExceeds('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[{"b":1}]}', 2)).toBe(true);
    expect(jsonDepthExceeds('{"a":"[[[[[[\\"[[[["}', 1)).toBe(false);
  });
  it('stops a 10,000-level body without recursion', () => {
    expect(jsonDepthExceeds('['.repeat(10_000) + ']'.repeat(10_000), 64)).toBe(true);
  });
});

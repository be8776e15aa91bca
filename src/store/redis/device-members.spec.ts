import { DeviceMembers } from './redis-fan-out';

describe('DeviceMembers (the subscription ids a fan-out names, per device)', () => {
  it('remembers the ids of each device, unknown devices having none', () => {
    const m = new DeviceMembers();
    m.set('d1', ['s1', 's2']);
    expect(m.get('d1')).toEqual(['s1', 's2']);
    expect(m.get('d2')).toEqual([]);
  });

  it('is bounded: beyond `max` devices the least recently used is forgotten', () => {
    const m = new DeviceMembers(2);
    m.set('d1', ['s1']);
    m.set('d2', ['s2']);
    m.get('d1'); // used: now the newest
    m.set('d3', ['s3']);
    expect(m.size).toBe(2);
    expect([m.get('d1'), m.get('d2'), m.get('d3')]).toEqual([['s1'], [], ['s3']]);
  });
});

import pino from 'pino';
import { EdgeRefusalLog } from './malformed-log';

describe('EdgeRefusalLog', () => {
  it('warns once per interval with the count, every message at debug', () => {
    const lines: Array<{ level: number; msg: string; sinceLastSummary?: number }> = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as (typeof lines)[number]) });
    let now = 0;
    const log = new EdgeRefusalLog(logger, 'malformed SIP message refused', 60_000, () => now);
    for (let i = 0; i < 1000; i++) log.record('192.0.2.1:5060', 'junk', Buffer.from('junk'));
    now = 60_000;
    log.record('192.0.2.1:5060', 'junk');
    const warns = lines.filter((l) => l.level === 40);
    expect(warns.map((w) => w.sinceLastSummary)).toEqual([1, 1000]);
    expect(lines.filter((l) => l.level === 20)).toHaveLength(1001);
  });
});

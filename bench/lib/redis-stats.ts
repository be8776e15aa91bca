/**
 * Redis figures for the benchmark: memory (INFO memory), command counts (INFO commandstats) and
 * round trips counted with MONITOR (which tells commands sent by clients from those run inside
 * Lua scripts, and lets a MULTI…EXEC block count as the one round trip ioredis makes of it).
 */
import type { Redis } from 'ioredis';

function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

export async function redisUsedMemory(r: Redis): Promise<number> {
  return Number(parseInfo(await r.info('memory')).get('used_memory') ?? NaN);
}

/** cmdstat_<name> → calls */
export async function commandStats(r: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [k, v] of parseInfo(await r.info('commandstats'))) {
    const calls = /calls=(\d+)/.exec(v)?.[1];
    if (k.startsWith('cmdstat_') && calls) out.set(k.slice(8), Number(calls));
  }
  return out;
}

export function diffStats(a: Map<string, number>, b: Map<string, number>, exclude: readonly string[] = ['info', 'monitor', 'ping']): { total: number; by: Record<string, number> } {
  const by: Record<string, number> = {};
  let total = 0;
  for (const [k, v] of b) {
    if (exclude.includes(k)) continue;
    const d = v - (a.get(k) ?? 0);
    if (d > 0) {
      by[k] = d;
      total += d;
    }
  }
  return { total, by };
}

export interface MonitorCount {
  /** client round trips (a MULTI…EXEC block counts once; commands run by Lua scripts do not count) */
  roundTrips: number;
  /** commands run inside Lua scripts */
  luaCommands: number;
  /** top-level commands by name */
  by: Record<string, number>;
  ms: number;
}

/** Counts what the gateway sends to Redis while `fn` runs (MONITOR on a dedicated connection). */
export async function monitorRoundTrips<T>(client: Redis, fn: () => Promise<T>): Promise<{ result: T; count: MonitorCount }> {
  const mon = await client.monitor();
  const by: Record<string, number> = {};
  let roundTrips = 0;
  let luaCommands = 0;
  const inMulti = new Set<string>();
  const t0 = Date.now();
  mon.on('monitor', (_time: string, args: string[], source: string) => {
    const cmd = (args[0] ?? '').toLowerCase();
    if (source === 'lua' || source.endsWith(' lua')) {
      luaCommands++;
      return;
    }
    if (cmd === 'multi') {
      inMulti.add(source);
      return;
    }
    if (cmd === 'exec' || cmd === 'discard') {
      inMulti.delete(source);
      roundTrips++;
      by[`multi/${cmd}`] = (by[`multi/${cmd}`] ?? 0) + 1;
      return;
    }
    if (inMulti.has(source)) return;
    roundTrips++;
    by[cmd] = (by[cmd] ?? 0) + 1;
  });
  try {
    const result = await fn();
    return { result, count: { roundTrips, luaCommands, by, ms: Date.now() - t0 } };
  } finally {
    mon.disconnect();
  }
}

/**
 * Per-process CPU and memory from /proc (Linux). CPU is utime+stime of the process itself
 * (/proc/<pid>/stat fields 14 and 15, also read apart: user mode and kernel mode), never the
 * machine-wide /proc/stat, which reads idle in this VM under bursty SIP load (see the lab README).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clkTck = 0;
/** Clock ticks per second (getconf CLK_TCK; 100 on Linux in practice). */
export function clockTicks(): number {
  if (clkTck > 0) return clkTck;
  try {
    clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clkTck = 100;
  }
  return clkTck;
}

/** The fields of a /proc/<pid>/stat line after the command name: field 3 (state) is index 0. */
function fieldsOf(text: string): string[] {
  // the command name (field 2) may hold spaces and parentheses: split after the last ')'
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

function statFields(pid: number): string[] | null {
  try {
    return fieldsOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** CPU of one process kept apart: user mode (utime) and kernel mode (stime, the syscalls), ms. */
export interface CpuSplit {
  userMs: number;
  systemMs: number;
}

/**
 * utime (field 14) and stime (field 15) of a /proc/<pid>/stat line in ms, or null if the line
 * does not hold them. After ')' field 3 (state) is index 0, so utime is index 11 and stime index 12.
 */
export function cpuSplitFromStat(text: string, ticksPerS: number): CpuSplit | null {
  const f = fieldsOf(text);
  const user = Number(f[11]);
  const system = Number(f[12]);
  if (!text.includes(')') || !Number.isFinite(user) || !Number.isFinite(system) || ticksPerS <= 0) return null;
  return { userMs: (user * 1000) / ticksPerS, systemMs: (system * 1000) / ticksPerS };
}

/** utime and stime of one process in ms, or null if it is gone. */
export function cpuSplitMs(pid: number): CpuSplit | null {
  try {
    return cpuSplitFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicks());
  } catch {
    return null;
  }
}

/** utime+stime of one process in ms, or null if it is gone. */
export function cpuMs(pid: number): number | null {
  const s = cpuSplitMs(pid);
  return s === null ? null : s.userMs + s.systemMs;
}

/** Direct children of a process (Kamailio's workers). */
export function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (f && Number(f[1]) === ppid) out.push(Number(d));
  }
  return out;
}

/** Sum of utime+stime in ms over a process and its direct children (null if the leader is gone). */
export function groupCpuMs(pid: number): number | null {
  const own = cpuMs(pid);
  if (own === null) return null;
  return childPids(pid).reduce((acc, c) => acc + (cpuMs(c) ?? 0), own);
}

/** VmRSS (and VmHWM) in bytes from /proc/<pid>/status. */
export function rssBytes(pid: number): { rss: number; hwm: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Kernel UDP receive-buffer overflow counter (machine-wide) from /proc/net/snmp. */
export function udpRcvbufErrors(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const hdr = (lines[0] ?? '').split(/\s+/);
    const val = (lines[1] ?? '').split(/\s+/);
    return Number(val[hdr.indexOf('RcvbufErrors')] ?? 0);
  } catch {
    return 0;
  }
}

/** A short description of the machine for the report. */
export function machineInfo(): Record<string, string | number> {
  const info: Record<string, string | number> = {};
  try {
    const cpu = readFileSync('/proc/cpuinfo', 'utf8');
    info.cpuModel = /^model name\s*:\s*(.*)$/m.exec(cpu)?.[1] ?? 'unknown';
    info.cpus = (cpu.match(/^processor\s*:/gm) ?? []).length;
  } catch {
    info.cpuModel = 'unknown';
  }
  try {
    const mem = readFileSync('/proc/meminfo', 'utf8');
    info.memGiB = Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(mem)?.[1] ?? 0) / 1048576);
  } catch {
    /* not Linux */
  }
  try {
    info.kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    /* not Linux */
  }
  info.node = process.version;
  return info;
}

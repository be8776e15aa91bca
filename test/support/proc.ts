/**
 * Child processes of the test lab: spawned without a shell, each in its own process group
 * (so Kamailio's forked workers die with it), stopped by PID, and never leaked:
 *   - stop() sends SIGTERM to the group, then SIGKILL after a grace period, and waits;
 *   - a tiny detached "reaper" (one per test process) holds a pipe from us; when this
 *     process dies for any reason (even SIGKILL, or a Jest worker being torn down) the pipe
 *     closes and the reaper kills every group still registered;
 *   - a best-effort process.on('exit') hook does the same synchronously.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const LAB_ROOT = join(REPO_ROOT, 'test', '.lab');

let dirCounter = 0;
/** A new, unique directory under test/.lab/ for logs, pid-less run state and sockets. */
export function makeLabDir(name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const dir = join(LAB_ROOT, `${stamp}-${process.pid}-${++dirCounter}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class LabProcessError extends Error {
  constructor(
    message: string,
    readonly logTail: string,
  ) {
    super(logTail ? `${message}\n--- last log lines ---\n${logTail}` : message);
    this.name = 'LabProcessError';
  }
}

/** Last `lines` lines of a text file ('' if it does not exist). */
export function tailFile(path: string, lines = 40): string {
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  // SIPp writes its screen with ANSI escapes: strip them for readable errors
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  return clean.split('\n').slice(-lines).join('\n').trimEnd();
}

// ----------------------------------------------------------------------------------------
// Registry + reaper
// ----------------------------------------------------------------------------------------

const REAPER_SRC = `
const groups = new Set();
let buf = '';
let dying = false;
const killAll = () => {
  if (dying) return; dying = true;
  for (const g of groups) { try { process.kill(-g, 'SIGTERM'); } catch (e) {} }
  setTimeout(() => {
    for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch (e) {} }
    process.exit(0);
  }, 2000);
};
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const [op, id] = buf.slice(0, i).split(' ');
    buf = buf.slice(i + 1);
    const n = Number(id);
    if (!Number.isInteger(n) || n <= 1) continue;
    if (op === '+') groups.add(n); else if (op === '-') groups.delete(n);
  }
});
process.stdin.on('end', killAll);
process.stdin.on('error', killAll);
const parent = Number(process.argv[1]);
setInterval(() => { try { process.kill(parent, 0); } catch (e) { killAll(); } }, 1000);
`;

const live = new Set<ManagedProcess>();
let reaper: ChildProcess | null = null;
let exitHookInstalled = false;

function reaperSend(line: string): void {
  if (!reaper || reaper.exitCode !== null || !reaper.stdin || reaper.stdin.destroyed) {
    reaper = spawn(process.execPath, ['-e', REAPER_SRC, String(process.pid)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    reaper.unref();
    const stdin = reaper.stdin;
    if (stdin instanceof Socket) stdin.unref();
    stdin?.on('error', () => undefined);
    for (const p of live) if (p.pid) stdin?.write(`+ ${p.pid}\n`);
  }
  reaper.stdin?.write(`${line}\n`);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.killNow();
  });
}

/** Kill every lab process still running (synchronous SIGKILL of their groups). */
export function killAllLabProcesses(): void {
  for (const p of live) p.killNow();
}

// ----------------------------------------------------------------------------------------

export interface ProcessSpec {
  /** short name used in messages */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** stdout+stderr go here (appended) */
  logFile: string;
  /** 'ignore' for chatty stdout (SIPp's screen); stderr always goes to logFile */
  stdout?: 'log' | 'ignore';
  env?: NodeJS.ProcessEnv;
}

export class ManagedProcess {
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | null = null;

  private constructor(
    readonly spec: ProcessSpec,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise<ExitInfo>((res) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        if (child.pid) {
          try {
            reaperSend(`- ${child.pid}`);
          } catch {
            /* reaper gone: nothing to unregister */
          }
        }
        res(this.exitInfo);
      });
    });
  }

  /** Spawn (no shell), in a new process group. Rejects if the binary cannot be executed. */
  static async start(spec: ProcessSpec): Promise<ManagedProcess> {
    mkdirSync(spec.cwd, { recursive: true });
    const fd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        detached: true,
        stdio: ['ignore', spec.stdout === 'ignore' ? 'ignore' : fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    // attach the exit listener before anything else can happen
    const p = new ManagedProcess(spec, child);
    await new Promise<void>((res, rej) => {
      child.once('spawn', () => res());
      child.once('error', (err) => rej(new LabProcessError(`${spec.name}: cannot start ${spec.command}: ${err.message}`, tailFile(spec.logFile))));
    });
    if (!p.running) return p;
    live.add(p);
    installExitHook();
    if (child.pid) reaperSend(`+ ${child.pid}`);
    return p;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get name(): string {
    return this.spec.name;
  }

  get logFile(): string {
    return this.spec.logFile;
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  get exitStatus(): ExitInfo | null {
    return this.exitInfo;
  }

  logTail(lines = 40): string {
    return tailFile(this.spec.logFile, lines);
  }

  /** Signal the whole process group; false if it no longer exists. */
  signalGroup(sig: NodeJS.Signals | 0): boolean {
    const pid = this.child.pid;
    if (!pid) return false;
    try {
      process.kill(-pid, sig);
      return true;
    } catch {
      return false;
    }
  }

  /** Synchronous SIGKILL of the group (exit hooks, crash simulation). */
  killNow(): void {
    this.signalGroup('SIGKILL');
  }

  /** SIGTERM the group, SIGKILL after graceMs, wait until the leader exited and the group is gone. */
  async stop(graceMs = 3000): Promise<ExitInfo> {
    if (this.running) this.signalGroup('SIGTERM');
    const timer = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), graceMs).unref());
    if ((await Promise.race([this.exited, timer])) === 'timeout') this.signalGroup('SIGKILL');
    const info = await this.exited;
    // forked workers (Kamailio) may outlive the leader by a few ms
    const deadline = Date.now() + graceMs;
    while (this.signalGroup(0)) {
      if (Date.now() > deadline) {
        this.signalGroup('SIGKILL');
        if (Date.now() > deadline + 2000) break;
      }
      await sleep(20);
    }
    return info;
  }

  /** Immediate SIGKILL of the group (simulates a crash) and wait for the exit. */
  async kill(): Promise<ExitInfo> {
    this.killNow();
    return this.stop(2000);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/**
 * Poll `check` until it returns true. Fails early (with the log tail) if `proc` exits,
 * or after `timeoutMs`.
 */
export async function waitUntil(what: string, proc: ManagedProcess, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  for (;;) {
    if (!proc.running) {
      await sleep(50); // let the log catch up
      const st = proc.exitStatus;
      throw new LabProcessError(`${proc.name} exited (code ${st?.code ?? 'null'}, signal ${st?.signal ?? 'none'}) while waiting for ${what}`, proc.logTail());
    }
    try {
      if (await check()) return;
    } catch (e) {
      lastErr = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      throw new LabProcessError(`${proc.name}: timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}`, proc.logTail());
    }
    await sleep(intervalMs);
  }
}

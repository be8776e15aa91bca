/**
 * The gateway under test, as a separate Node process: `src/` transpiled once (like ts-node
 * --transpile-only: no type check, so it always runs the current sources) into bench/.run/gw-dist,
 * started with `node --inspect=127.0.0.1:<port> main.js`. The inspector is only attached at
 * measurement points (forced GC + heap usage; optional CPU profile), never during load.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';
import { request } from 'undici';
import { WebSocket } from 'undici';
import { ManagedProcess, REPO_ROOT, sleep, waitUntil } from '../../test/support/proc';
import { freePort } from '../../test/support/lab';
import { cpuMs, cpuSplitMs, rssBytes, type CpuSplit } from './procfs';

export const BENCH_RUN_DIR = join(REPO_ROOT, 'bench', '.run');

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== '__fixtures__') out.push(...listTs(p));
    } else if (name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts')) {
      out.push(p);
    }
  }
  return out;
}

/**
 * Transpiles src/**.ts (no type check) into bench/.run/gw-dist (or `outDir`: a baseline build's
 * sources go next to its worktree); returns the path of main.js. Node resolves the gateway's
 * modules up the tree from there, so the repository's node_modules serve both builds.
 */
export function transpileGateway(srcDir = join(REPO_ROOT, 'src'), outDir = join(BENCH_RUN_DIR, 'gw-dist')): { mainJs: string; files: number; ms: number } {
  const t0 = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  const compilerOptions: ts.CompilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    allowSyntheticDefaultImports: true,
    resolveJsonModule: true,
    sourceMap: false,
  };
  const files = listTs(srcDir);
  for (const f of files) {
    const out = ts.transpileModule(readFileSync(f, 'utf8'), { compilerOptions, fileName: f });
    const dest = join(outDir, relative(srcDir, f)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, out.outputText);
  }
  return { mainJs: join(outDir, 'main.js'), files: files.length, ms: Date.now() - t0 };
}

export interface HeapUsage {
  /** V8 heap used after a forced full GC, bytes */
  usedAfterGc: number;
  total: number;
}

export interface MetricsSnapshot {
  heapUsed?: number;
  rss?: number;
}

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

interface CdpReply {
  id?: number;
  result?: unknown;
  error?: { message: string };
}

/** Minimal Chrome DevTools Protocol session over the inspector WebSocket. */
class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const text = typeof ev.data === 'string' ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString('utf8');
      const msg = JSON.parse(text) as CdpReply;
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.rej(new Error(msg.error.message));
      else p.res(msg.result);
    });
    ws.addEventListener('close', () => {
      for (const p of this.pending.values()) p.rej(new Error('inspector closed'));
      this.pending.clear();
    });
  }

  static async open(port: number): Promise<InspectorSession> {
    const res = await request(`http://127.0.0.1:${port}/json/list`);
    const list = (await res.body.json()) as Array<{ webSocketDebuggerUrl: string }>;
    const url = list[0]?.webSocketDebuggerUrl;
    if (!url) throw new Error('inspector: no debuggee');
    const ws = new WebSocket(url);
    await new Promise<void>((res2, rej) => {
      ws.addEventListener('open', () => res2());
      ws.addEventListener('error', () => rej(new Error('inspector: WebSocket error')));
    });
    return new InspectorSession(ws);
  }

  send<T>(method: string, params: Record<string, unknown> = {}, timeoutMs = 30000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((res, rej) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        rej(new Error(`inspector ${method}: timeout`));
      }, timeoutMs);
      this.pending.set(id, {
        res: (v) => {
          clearTimeout(timer);
          res(v as T);
        },
        rej: (e) => {
          clearTimeout(timer);
          rej(e);
        },
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

export interface GatewayProcess {
  readonly pid: number;
  readonly httpPort: number;
  readonly sipPort: number;
  readonly baseUrl: string;
  readonly logFile: string;
  cpuMs(): number;
  /** user-mode and kernel-mode CPU kept apart (NaN if the process is gone) */
  cpuSplit(): CpuSplit;
  rss(): number;
  /** heap used after a forced full GC, via the inspector (null if the inspector is unavailable) */
  heapAfterGc(): Promise<HeapUsage | null>;
  /** nodejs_heap_size_used_bytes / process_resident_memory_bytes from GET /metrics, if served */
  metrics(): Promise<MetricsSnapshot | null>;
  /** sampled CPU profile of the gateway over `fn` (inspector Profiler, same format as --cpu-prof) */
  profile<T>(fn: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** `nodeFlags`: Node/V8 options before the script (e.g. `--max-semi-space-size=64`). */
export async function startGatewayProcess(opts: { mainJs: string; env: Record<string, string>; dir: string; nodeFlags?: readonly string[] }): Promise<GatewayProcess> {
  const httpPort = await freePort('tcp');
  const sipPort = await freePort('both');
  const inspectPort = await freePort('tcp');
  const logFile = join(opts.dir, 'gateway.log');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    ...opts.env,
    PORT: String(httpPort),
    HOST: '127.0.0.1',
    SIP_LISTEN_PORT: String(sipPort),
    SIP_LISTEN_ADDRESS: '127.0.0.1',
  };
  const proc = await ManagedProcess.start({
    name: `gateway:${httpPort}`,
    command: process.execPath,
    args: [...(opts.nodeFlags ?? []), `--inspect=127.0.0.1:${inspectPort}`, opts.mainJs],
    cwd: opts.dir,
    logFile,
    env,
  });
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  await waitUntil(
    'HTTP listening (GET /health/live answered)',
    proc,
    async () => {
      // any HTTP answer (even 404 while the health endpoint is absent) means the app listens
      const res = await request(`${baseUrl}/health/live`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      return res.statusCode > 0;
    },
    30000,
    200,
  );
  const pid = proc.pid;
  if (pid === undefined) throw new Error('gateway has no pid');

  return {
    pid,
    httpPort,
    sipPort,
    baseUrl,
    logFile,
    cpuMs: () => cpuMs(pid) ?? NaN,
    cpuSplit: () => cpuSplitMs(pid) ?? { userMs: NaN, systemMs: NaN },
    rss: () => rssBytes(pid)?.rss ?? NaN,
    async heapAfterGc(): Promise<HeapUsage | null> {
      let s: InspectorSession | undefined;
      try {
        s = await InspectorSession.open(inspectPort);
        await s.send('HeapProfiler.collectGarbage');
        await sleep(50);
        await s.send('HeapProfiler.collectGarbage');
        const u = await s.send<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage');
        return { usedAfterGc: u.usedSize, total: u.totalSize };
      } catch {
        return null;
      } finally {
        s?.close();
      }
    },
    async metrics(): Promise<MetricsSnapshot | null> {
      try {
        const res = await request(`${baseUrl}/metrics`, { headersTimeout: 3000, bodyTimeout: 3000 });
        const text = await res.body.text();
        if (res.statusCode !== 200) return null;
        const val = (name: string): number | undefined => {
          const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)`, 'm').exec(text);
          return m?.[1] !== undefined ? Number(m[1]) : undefined;
        };
        const heapUsed = val('nodejs_heap_size_used_bytes');
        const rss = val('process_resident_memory_bytes');
        if (heapUsed === undefined && rss === undefined) return null;
        return { ...(heapUsed !== undefined && { heapUsed }), ...(rss !== undefined && { rss }) };
      } catch {
        return null;
      }
    },
    async profile<T>(fn: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
      const s = await InspectorSession.open(inspectPort);
      try {
        await s.send('Profiler.enable');
        await s.send('Profiler.setSamplingInterval', { interval: 500 });
        await s.send('Profiler.start');
        const result = await fn();
        const { profile } = await s.send<{ profile: CpuProfile }>('Profiler.stop', {}, 60000);
        await s.send('Profiler.disable');
        return { result, profile };
      } finally {
        s.close();
      }
    },
    logTail: (lines = 40) => proc.logTail(lines),
    async stop(): Promise<void> {
      await proc.stop(5000);
    },
  };
}

/**
 * N gateway processes on one host seen as one gateway: CPU, RSS and heap summed over all of them;
 * metrics, profile and the inspector of the first one; stop() stops them all.
 */
export function gatewayGroup(procs: readonly GatewayProcess[]): GatewayProcess {
  const first = procs[0];
  if (!first) throw new Error('gatewayGroup: no process');
  if (procs.length === 1) return first;
  const sum = (f: (p: GatewayProcess) => number): number => procs.reduce((a, p) => a + f(p), 0);
  return {
    pid: first.pid,
    httpPort: first.httpPort,
    sipPort: first.sipPort,
    baseUrl: first.baseUrl,
    logFile: procs.map((p) => p.logFile).join(', '),
    cpuMs: () => sum((p) => p.cpuMs()),
    cpuSplit: () => ({ userMs: sum((p) => p.cpuSplit().userMs), systemMs: sum((p) => p.cpuSplit().systemMs) }),
    rss: () => sum((p) => p.rss()),
    async heapAfterGc(): Promise<HeapUsage | null> {
      const all = await Promise.all(procs.map((p) => p.heapAfterGc()));
      if (all.some((h) => h === null)) return null;
      return { usedAfterGc: all.reduce((a, h) => a + (h?.usedAfterGc ?? 0), 0), total: all.reduce((a, h) => a + (h?.total ?? 0), 0) };
    },
    metrics: () => first.metrics(),
    profile: (fn) => first.profile(fn),
    logTail: (lines = 40) => procs.map((p) => `--- ${p.logFile}\n${p.logTail(lines)}`).join('\n'),
    async stop(): Promise<void> {
      await Promise.all(procs.map((p) => p.stop()));
    },
  };
}

/** Top self-time functions of a CPU profile. */
export function profileTop(profile: CpuProfile, top = 25): Array<{ fn: string; where: string; selfMs: number; pct: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] ?? 0;
    // timeDeltas[i] is the time since the previous sample: attribute the next delta to this sample
    const dt = deltas[i + 1] ?? deltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const agg = new Map<string, { fn: string; where: string; us: number }>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const fn = n.callFrame.functionName || '(anonymous)';
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(`${REPO_ROOT}/`, '');
    const where = url ? `${url}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const a = agg.get(key) ?? { fn, where, us: 0 };
    a.us += us;
    agg.set(key, a);
  }
  return [...agg.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((a) => ({ fn: a.fn, where: a.where, selfMs: Math.round(a.us / 100) / 10, pct: Math.round((1000 * a.us) / total) / 10 }));
}

/** Self time aggregated by package / source area (node_modules/<pkg>, src/<dir>, node internals). */
export function profileByArea(profile: CpuProfile): Array<{ area: string; pct: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const agg = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const n = byId.get(samples[i] ?? 0);
    const dt = deltas[i + 1] ?? deltas[i] ?? 0;
    total += dt;
    const url = n?.callFrame.url ?? '';
    let area: string;
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const gw = /gw-dist\/([^/]+)/.exec(url);
    if (nm?.[1]) area = nm[1];
    else if (gw?.[1]) area = `src/${gw[1].replace(/\.js$/, '')}`;
    else if (url.startsWith('node:')) area = 'node internals';
    else area = n?.callFrame.functionName ? `(${n.callFrame.functionName})` : '(native/idle)';
    agg.set(area, (agg.get(area) ?? 0) + dt);
  }
  return [...agg.entries()]
    .map(([area, us]) => ({ area, pct: Math.round((1000 * us) / (total || 1)) / 10 }))
    .sort((a, b) => b.pct - a.pct)
    .slice(0, 15);
}

/**
 * The machine's ceiling: SIPp UAC → SIPp UAS directly (no Kamailio, no gateway), same call
 * shape as the gateway's calls (UAS ring time, hold, BYE). The UAC's own CPU per call comes
 * from /proc/<pid>/stat, sampled until it exits.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_HOST, freePort, scenarioPath } from '../../test/support/lab';
import { ManagedProcess, makeLabDir } from '../../test/support/proc';
import { cpuMs } from './procfs';
import { sleep } from './stats';

export interface SippRun {
  rate: number;
  calls: number;
  ok: number;
  failed: number;
  okCps: number;
  wallS: number;
  uacCpuMsPerCall: number | null;
  pass: boolean;
}

export async function sippDirect(opts: { uasPort: number; rate: number; seconds: number; holdMs: number; callee: string }): Promise<SippRun> {
  const dir = makeLabDir(`sipp-direct-${opts.rate}`);
  const screen = join(dir, 'screen.log');
  const calls = Math.max(1, Math.round(opts.rate * opts.seconds));
  const timeoutS = Math.ceil(opts.seconds + opts.holdMs / 1000 + 15);
  const args = [
    `${LAB_HOST}:${opts.uasPort}`,
    '-sf',
    scenarioPath('uac-call-answered'),
    '-i',
    LAB_HOST,
    '-p',
    String(await freePort('udp')),
    '-t',
    'u1',
    '-mi',
    LAB_HOST,
    '-set',
    'caller',
    '+15550001234',
    '-set',
    'domain',
    LAB_HOST,
    '-s',
    opts.callee.replace(/^tel:/, ''),
    '-r',
    String(opts.rate),
    '-m',
    String(calls),
    '-d',
    String(opts.holdMs),
    '-l',
    String(Math.max(2000, opts.rate * 6)),
    '-buff_size',
    '4194304',
    '-recv_timeout',
    '5000',
    '-nostdin',
    '-timeout',
    `${timeoutS}s`,
    '-timeout_error',
    '-trace_screen',
    '-screen_file',
    screen,
  ];
  const t0 = Date.now();
  const proc = await ManagedProcess.start({ name: `sipp direct ${opts.rate}/s`, command: 'sipp', args, cwd: dir, logFile: join(dir, 'sipp.log'), stdout: 'ignore' });
  const pid = proc.pid ?? 0;
  let lastCpu = 0;
  let done = false;
  void proc.exited.then(() => {
    done = true;
  });
  const deadline = Date.now() + (timeoutS + 10) * 1000;
  while (!done && Date.now() < deadline) {
    const c = cpuMs(pid);
    if (c !== null) lastCpu = c;
    await sleep(100);
  }
  await proc.stop(3000);
  const wallS = (Date.now() - t0) / 1000;
  const txt = existsSync(screen) ? readFileSync(screen, 'latin1') : '';
  const last = (re: RegExp): number => {
    const all = [...txt.matchAll(re)];
    const m = all[all.length - 1];
    return m?.[1] !== undefined ? Number(m[1]) : 0;
  };
  const ok = last(/Successful call\s*\|\s*\d+\s*\|\s*(\d+)/g);
  const failed = last(/Failed call\s*\|\s*\d+\s*\|\s*(\d+)/g) + Math.max(0, calls - ok - last(/Failed call\s*\|\s*\d+\s*\|\s*(\d+)/g));
  return {
    rate: opts.rate,
    calls,
    ok,
    failed,
    okCps: Math.round((ok / opts.seconds) * 10) / 10,
    wallS: Math.round(wallS * 10) / 10,
    uacCpuMsPerCall: ok > 0 ? Math.round((lastCpu / ok) * 1000) / 1000 : null,
    pass: ok > 0 && failed <= calls * 0.001,
  };
}

/**
 * The SIP/Redis test lab, for Jest beforeAll/afterAll:
 *
 *   const lab = await startLab();              // Redis + Kamailio ("IMS core") + SIPp UASs
 *   ... lab.kamailio.outboundProxy, lab.redis.url, lab.numbers.busy ...
 *   await lab.stop();
 *
 * Every process runs on free ports on 127.0.0.1, is spawned without a shell, logs under
 * test/.lab/<unique>/ and is stopped by PID (see proc.ts for the leak protection).
 * Needs kamailio, kamcmd, sipp and redis-server on PATH (scripts/install-test-deps.sh).
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, isPortFree } from './ports';
import { LabProcessError, ManagedProcess, REPO_ROOT, makeLabDir, sleep, tailFile, waitUntil } from './proc';
import { sipOptionsPing } from './sip-probe';

export { freePort, freePorts, isPortFree } from './ports';
export type { PortKind } from './ports';
export { killAllLabProcesses, LabProcessError } from './proc';
export { sipOptionsPing } from './sip-probe';

export const LAB_HOST = '127.0.0.1' as const;
export const LAB_DOMAIN = 'ims.lab' as const;
export const SCENARIOS_DIR = join(REPO_ROOT, 'test', 'scenarios');
export const KAMAILIO_CFG = join(REPO_ROOT, 'test', 'lab', 'kamailio', 'kamailio.cfg');

/** Subscribers known to the lab's Kamailio (realm ims.lab). Same as test/lab/sip-credentials.json. */
export const LAB_SUBSCRIBERS: Readonly<Record<string, string>> = {
  '+17085852753': 's3cr3t-2753',
  '+17085854000': 's3cr3t-4000',
  '+17085850001': 's3cr3t-0001',
  '+17085850002': 's3cr3t-0002',
};

/** Load-test subscriber n (0..9999): +1708600NNNN, password "loadtest". */
export function loadTestSubscriber(n: number): { user: string; password: string } {
  if (!Number.isInteger(n) || n < 0 || n > 9999) throw new RangeError(`load-test subscriber index ${n} not in 0..9999`);
  return { user: `+1708600${String(n).padStart(4, '0')}`, password: 'loadtest' };
}

/** Callee numbers and what the lab does with them (see kamailio.cfg). */
export const LAB_NUMBERS = {
  /** answered by uas-answer-200.xml */
  answer: '+15550009999',
  /** 486 from uas-busy-486.xml */
  busy: '+15554860000',
  /** 480 sent by Kamailio itself */
  unavailable: '+15554800000',
  /** rings forever (uas-ring-no-answer.xml), 487 after CANCEL */
  noAnswer: '+15554080000',
  /** answered, then the far end sends BYE after ~1 s (uas-answer-then-bye.xml) */
  remoteBye: '+15557000000',
  /** emergency R-URI, goes to the traced PSAP UAS */
  sos: 'urn:service:sos',
} as const;

const KAMAILIO_BIN = process.env.LAB_KAMAILIO_BIN ?? 'kamailio';
const KAMCMD_BIN = process.env.LAB_KAMCMD_BIN ?? 'kamcmd';
const SIPP_BIN = process.env.LAB_SIPP_BIN ?? 'sipp';
const REDIS_BIN = process.env.LAB_REDIS_BIN ?? 'redis-server';

function execText(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`.trimEnd()));
      else resolve(stdout);
    });
  });
}

/** Scenario name ('uas-busy-486' or 'uas-busy-486.xml') or path -> absolute path (must exist). */
export function scenarioPath(scenario: string): string {
  const p = isAbsolute(scenario) ? scenario : join(SCENARIOS_DIR, scenario.endsWith('.xml') ? scenario : `${scenario}.xml`);
  if (!existsSync(p)) throw new Error(`SIPp scenario not found: ${p}`);
  return p;
}

// ========================================================================================
// Redis
// ========================================================================================

export interface RedisInstance {
  readonly host: typeof LAB_HOST;
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly dir: string;
  readonly pid: number | undefined;
  /** A new ioredis client (closed by stop()). */
  client(): Redis;
  /**
   * A store outage: the data is saved (RDB in `dir`), the server stopped; `end()` starts it again
   * on the same port with that data (writes after the save are lost, as in a real crash).
   */
  interrupt(): Promise<{ end(): Promise<void> }>;
  stop(): Promise<void>;
}

function redisPing(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: LAB_HOST, port });
    let buf = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/** redis-server on a free port, no persistence, own dir under test/.lab/. Waits for PING. */
export async function startRedis(opts: { startTimeoutMs?: number } = {}): Promise<RedisInstance> {
  const dir = makeLabDir('redis');
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort('tcp');
    const launch = (): Promise<ManagedProcess> =>
      ManagedProcess.start({
        name: `redis-server:${port}`,
        command: REDIS_BIN,
        args: ['--port', String(port), '--bind', LAB_HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes'],
        cwd: dir,
        logFile: join(dir, 'redis.log'),
      });
    let proc = await launch();
    try {
      await waitUntil('PING', proc, () => redisPing(port), opts.startTimeoutMs ?? 10000);
    } catch (e) {
      lastErr = e;
      await proc.stop();
      if (/Address already in use/i.test(proc.logTail())) continue; // port race: try another
      throw e;
    }
    const clients = new Set<Redis>();
    return {
      host: LAB_HOST,
      port,
      url: `redis://${LAB_HOST}:${port}`,
      dir,
      get pid() {
        return proc.pid;
      },
      client(): Redis {
        const c = new Redis({ host: LAB_HOST, port, maxRetriesPerRequest: 1, lazyConnect: false });
        clients.add(c);
        c.on('end', () => clients.delete(c));
        c.on('error', () => undefined);
        return c;
      },
      async interrupt() {
        const admin = new Redis({ host: LAB_HOST, port, maxRetriesPerRequest: 1 });
        try {
          await admin.save();
        } finally {
          admin.disconnect();
        }
        await proc.stop();
        return {
          async end(): Promise<void> {
            proc = await launch();
            await waitUntil('PING', proc, () => redisPing(port), opts.startTimeoutMs ?? 10000);
          },
        };
      },
      async stop(): Promise<void> {
        for (const c of clients) c.disconnect();
        clients.clear();
        await proc.stop();
      },
    };
  }
  throw lastErr;
}

// ========================================================================================
// Kamailio
// ========================================================================================

export interface KamailioOptions {
  /** far-end ports Kamailio routes to (see kamailio.cfg); unset = a free port nobody listens on */
  uasPort?: number;
  busyPort?: number;
  psapPort?: number;
  noAnswerPort?: number;
  byePort?: number;
  /** fixed SIP / WebSocket ports (default: free ports) */
  sipPort?: number;
  wsPort?: number;
  /** shared memory MB (default 256), private memory MB (default 16) */
  shmMb?: number;
  pkgMb?: number;
  /** worker processes (default 2) */
  children?: number;
  /** log level -1..3 (default 1; 3 = debug) */
  debug?: number;
  /** ringing timeout of Kamailio's INVITE transactions, ms (default 60000) */
  frInvTimerMs?: number;
  /** SIP over TLS too (LAB_TLS_PORT in kamailio.cfg): Kamailio's certificate and key, and the CA list it loads (e.g. from tls-certs.ts) */
  tls?: { certFile: string; keyFile: string; caFile: string; port?: number };
  /**
   * Front several gateway instances with the dispatcher module (LAB_DISPATCHER_LIST in kamailio.cfg):
   * `gateways` are their SIP URIs (sip:127.0.0.1:PORT, written to a dispatcher.list as set 1), pinged
   * with OPTIONS every `pingIntervalS` (default 1); an INVITE fails over after `failoverMs` without a
   * response (default 2000, also the ping timeout)
   */
  dispatcher?: { gateways: string[]; pingIntervalS?: number; failoverMs?: number };
  /** more -A defines for kamailio.cfg, e.g. { LAB_RTPENGINE_SOCK: '"udp:127.0.0.1:22222"' } (strings quoted for Kamailio) */
  defines?: Record<string, string | number>;
  startTimeoutMs?: number;
}

export interface Location {
  /** user part of the AoR (usrloc without domains), e.g. "+17085852753" */
  aor: string;
  /** registered Contact URI */
  contact: string;
  /** seconds left; Infinity for a permanent binding */
  expires: number;
  /** source address the REGISTER came from (set when NAT handling applied), e.g. sip:127.0.0.1:40000 */
  received?: string;
  /** Kamailio socket the binding arrived on, e.g. udp:127.0.0.1:25060 */
  socket?: string;
  callId?: string;
  /** CSeq of the last REGISTER that refreshed the binding */
  cseq?: number;
  userAgent?: string;
  /** usrloc branch flags saved with the binding (kamailio.cfg: FLB_MMTEL = 1 << 8) */
  cflags?: number;
  /** +sip.instance of the binding, e.g. <urn:uuid:…> */
  instance?: string;
}

export interface KamailioInstance {
  readonly host: typeof LAB_HOST;
  readonly port: number;
  readonly wsPort: number;
  readonly domain: typeof LAB_DOMAIN;
  /** sip:127.0.0.1:PORT;transport=udp */
  readonly outboundProxy: string;
  /** sip:127.0.0.1:PORT;transport=tcp */
  readonly outboundProxyTcp: string;
  /** with `tls`: the TLS port, and sip:127.0.0.1:TLSPORT;transport=tls (undefined without `tls`) */
  readonly tlsPort: number | undefined;
  readonly outboundProxyTls: string | undefined;
  /** ws://127.0.0.1:WSPORT (subprotocol "sip") */
  readonly wsUrl: string;
  /** unix:/path (binrpc, for kamcmd -s) */
  readonly ctl: string;
  readonly dir: string;
  readonly logFile: string;
  /** PID of the main process, undefined when stopped */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** kamcmd -s <ctl> args..., stdout */
  kamcmd(...args: string[]): Promise<string>;
  /** registrations parsed from ul.dump; aor: "+1708..." or "sip:+1708...@ims.lab" */
  locations(aor?: string): Promise<Location[]>;
  /** with `dispatcher`: each gateway URI and its dispatcher flags from `kamcmd dispatcher.list` (e.g. "AP" active, "IP" inactive) */
  dispatcherStates(): Promise<Record<string, string>>;
  /** last log lines */
  logTail(lines?: number): string;
  /** (re)start on the same ports after stop()/kill() */
  start(): Promise<void>;
  /** SIGTERM, wait for exit (and for all workers) */
  stop(): Promise<void>;
  /** SIGKILL (crash), wait for exit */
  kill(): Promise<void>;
  restart(): Promise<void>;
}

/** Parse `kamcmd dispatcher.list` text output: destination URI -> FLAGS (A/I/D active/inactive/disabled, P probing). */
export function parseDispatcherList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let uri: string | undefined;
  for (const raw of text.split('\n')) {
    const m = /^\s*(URI|FLAGS):\s*(\S+)/.exec(raw);
    if (m?.[1] === 'URI') uri = m[2];
    else if (m?.[1] === 'FLAGS' && uri !== undefined) {
      out[uri] = m[2] ?? '';
      uri = undefined;
    }
  }
  return out;
}

/** Parse `kamcmd ul.dump` text output. */
export function parseUlDump(text: string): Location[] {
  const out: Location[] = [];
  let aor: string | null = null;
  let cur: Partial<Location> | null = null;
  const flush = (): void => {
    if (cur && cur.aor !== undefined && cur.contact !== undefined && cur.expires !== undefined) out.push(cur as Location);
    cur = null;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (line === 'Contact: {') {
      flush();
      cur = { aor: aor ?? '' };
      continue;
    }
    if (!m) continue;
    const key = m[1] ?? '';
    const val = m[2] ?? '';
    if (key === 'AoR') {
      flush();
      aor = val;
      continue;
    }
    if (!cur) continue;
    const c: Partial<Location> = cur;
    const notSet = val === '[not set]';
    switch (key) {
      case 'Address':
        c.contact = val;
        break;
      case 'Expires':
        c.expires = val === 'permanent' ? Infinity : Number(val);
        break;
      case 'Received':
        if (!notSet) c.received = val;
        break;
      case 'Socket':
        if (!notSet) c.socket = val;
        break;
      case 'Call-ID':
        c.callId = val;
        break;
      case 'CSeq':
        c.cseq = Number(val);
        break;
      case 'User-Agent':
        if (val !== 'n/a') c.userAgent = val;
        break;
      case 'CFlags':
        c.cflags = Number(val);
        break;
      case 'Instance':
        if (!notSet) c.instance = val;
        break;
      default:
        break;
    }
  }
  flush();
  return out;
}

function aorUser(aor: string): string {
  const m = /^(?:sips?:)?([^@;>]+)(?:@.*)?$/.exec(aor.trim().replace(/^<|>$/g, ''));
  return m?.[1] ?? aor;
}

/** Kamailio with test/lab/kamailio/kamailio.cfg on free ports; waits for kamcmd and an OPTIONS 200. */
export async function startKamailio(opts: KamailioOptions = {}): Promise<KamailioInstance> {
  const dir = makeLabDir('kamailio');
  const runDir = join(dir, 'run');
  mkdirSync(runDir, { recursive: true });
  const logFile = join(dir, 'kamailio.log');
  // unix socket paths are limited to 107 bytes
  let ctlPath = join(dir, 'kamailio.ctl');
  if (ctlPath.length > 100) ctlPath = join(tmpdir(), `kamlab-${basename(dir)}.ctl`.slice(0, 60));
  const ctl = `unix:${ctlPath}`;

  const far = {
    uas: opts.uasPort ?? (await freePort('udp')),
    busy: opts.busyPort ?? (await freePort('udp')),
    psap: opts.psapPort ?? (await freePort('udp')),
    noAnswer: opts.noAnswerPort ?? (await freePort('udp')),
    bye: opts.byePort ?? (await freePort('udp')),
  };
  let sipPort = opts.sipPort ?? (await freePort('both'));
  let wsPort = opts.wsPort ?? (await freePort('tcp'));
  let tlsPort = opts.tls ? (opts.tls.port ?? (await freePort('tcp'))) : undefined;
  let proc: ManagedProcess | null = null;

  const kamcmd = (...args: string[]): Promise<string> => execText(KAMCMD_BIN, ['-s', ctl, ...args], 5000);
  let dispatcherList: string | undefined;
  if (opts.dispatcher) {
    dispatcherList = join(dir, 'dispatcher.list');
    writeFileSync(dispatcherList, opts.dispatcher.gateways.map((uri) => `1 ${uri}\n`).join(''));
  }

  const args = (): string[] => {
    const defs: Record<string, string | number> = {
      LAB_SIP_PORT: sipPort,
      LAB_WS_PORT: wsPort,
      LAB_CTL: `"${ctl}"`,
      LAB_UAS_PORT: far.uas,
      LAB_BUSY_PORT: far.busy,
      LAB_PSAP_PORT: far.psap,
      LAB_NOANSWER_PORT: far.noAnswer,
      LAB_BYE_PORT: far.bye,
      LAB_CHILDREN: opts.children ?? 2,
      LAB_DEBUG: opts.debug ?? 1,
      LAB_FR_INV_TIMER: opts.frInvTimerMs ?? 60000,
      ...(dispatcherList !== undefined && {
        LAB_DISPATCHER_LIST: `"${dispatcherList}"`,
        LAB_DS_PING_INTERVAL: opts.dispatcher?.pingIntervalS ?? 1,
        LAB_DS_FR_TIMER: opts.dispatcher?.failoverMs ?? 2000,
      }),
      ...(opts.tls && { LAB_TLS_PORT: tlsPort ?? 0, LAB_TLS_CERT: `"${opts.tls.certFile}"`, LAB_TLS_KEY: `"${opts.tls.keyFile}"`, LAB_TLS_CA: `"${opts.tls.caFile}"` }),
      ...opts.defines,
    };
    const a = ['-f', KAMAILIO_CFG, '-DD', '-E', '-Y', runDir, '-m', String(opts.shmMb ?? 256), '-M', String(opts.pkgMb ?? 16)];
    for (const [k, v] of Object.entries(defs)) a.push('-A', `${k}=${v}`);
    return a;
  };

  const launch = async (): Promise<void> => {
    if (proc?.running) throw new Error(`kamailio already running (pid ${proc.pid})`);
    const p = await ManagedProcess.start({ name: `kamailio:${sipPort}`, command: KAMAILIO_BIN, args: args(), cwd: dir, logFile });
    proc = p;
    try {
      await waitUntil(
        'kamcmd core.uptime and SIP OPTIONS 200',
        p,
        async () => {
          await kamcmd('core.uptime');
          const status = await sipOptionsPing(LAB_HOST, sipPort, 300);
          return status !== null && status.startsWith('SIP/2.0 200');
        },
        opts.startTimeoutMs ?? 15000,
        100,
      );
    } catch (e) {
      await p.stop();
      throw e;
    }
  };

  // first start: retry with other ports if a port we picked got taken meanwhile
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (e) {
      const raced = e instanceof LabProcessError && /Address already in use|bind/i.test(e.logTail);
      if (!raced || attempt >= 2 || opts.sipPort !== undefined || opts.wsPort !== undefined) throw e;
      sipPort = await freePort('both');
      wsPort = await freePort('tcp');
      if (opts.tls && opts.tls.port === undefined) tlsPort = await freePort('tcp');
    }
  }

  return {
    host: LAB_HOST,
    get port() {
      return sipPort;
    },
    get wsPort() {
      return wsPort;
    },
    domain: LAB_DOMAIN,
    get outboundProxy() {
      return `sip:${LAB_HOST}:${sipPort};transport=udp`;
    },
    get outboundProxyTcp() {
      return `sip:${LAB_HOST}:${sipPort};transport=tcp`;
    },
    get tlsPort() {
      return tlsPort;
    },
    get outboundProxyTls() {
      return tlsPort === undefined ? undefined : `sip:${LAB_HOST}:${tlsPort};transport=tls`;
    },
    get wsUrl() {
      return `ws://${LAB_HOST}:${wsPort}`;
    },
    ctl,
    dir,
    logFile,
    get pid() {
      return proc?.running ? proc.pid : undefined;
    },
    get running() {
      return proc?.running ?? false;
    },
    kamcmd,
    async locations(aor?: string): Promise<Location[]> {
      const all = parseUlDump(await kamcmd('ul.dump'));
      if (aor === undefined) return all;
      const user = aorUser(aor);
      return all.filter((l) => l.aor === user || aorUser(l.aor) === user);
    },
    async dispatcherStates(): Promise<Record<string, string>> {
      return parseDispatcherList(await kamcmd('dispatcher.list'));
    },
    logTail(lines = 40): string {
      return tailFile(logFile, lines);
    },
    start: launch,
    async stop(): Promise<void> {
      if (proc) await proc.stop(5000);
    },
    async kill(): Promise<void> {
      if (proc) await proc.kill();
    },
    async restart(): Promise<void> {
      if (proc) await proc.stop(5000);
      await launch();
    },
  };
}

// ========================================================================================
// SIPp
// ========================================================================================

export interface SippUasOptions {
  /** UDP port (default: a free one) */
  port?: number;
  /** address to bind (-i/-mi), default 127.0.0.1; '::1' runs the far end over IPv6 */
  host?: string;
  /** ring time in ms before 200 (-d), default 10; keep > 0 behind Kamailio */
  ringMs?: number;
  /** trace every message to a file readable via messages() (default true) */
  trace?: boolean;
  /** name used in the lab dir / errors */
  name?: string;
  /** more sipp arguments */
  extraArgs?: string[];
  startTimeoutMs?: number;
}

export interface SippUas {
  readonly port: number;
  readonly scenario: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  readonly dir: string;
  /** full -trace_msg text of every message received/sent so far ('' when trace=false) */
  messages(): Promise<string>;
  /** resolves with the messages text once it matches `pattern` (polls), rejects after timeoutMs */
  waitForMessage(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** SIPp's -trace_err file (unexpected messages, aborted calls ...) */
  errors(): Promise<string>;
  stop(): Promise<void>;
}

async function readIfExists(path: string): Promise<string> {
  return existsSync(path) ? readFileSync(path, 'latin1') : '';
}

/** Whether UDP `port` can be bound on `host` right now (IPv6 hosts too, unlike isPortFree). */
function udpFreeOn(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: host.includes(':') });
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind({ address: host, port, exclusive: true }, () => sock.close(() => resolve(true)));
  });
}

/** A SIPp UAS (server scenario) on a free UDP port of 127.0.0.1 (or opts.host). Waits until it is bound. */
export async function startSippUas(scenario: string, opts: SippUasOptions = {}): Promise<SippUas> {
  const sf = scenarioPath(scenario);
  const name = opts.name ?? basename(sf, '.xml');
  const dir = makeLabDir(`sipp-${name}`);
  const trace = opts.trace ?? true;
  const messageFile = join(dir, 'messages.log');
  const errorFile = join(dir, 'errors.log');
  const host = opts.host ?? LAB_HOST;
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await freePort('udp'));
    const args = [
      '-sf',
      sf,
      '-i',
      host,
      '-p',
      String(port),
      '-t',
      'u1',
      '-mi',
      host,
      '-d',
      String(opts.ringMs ?? 10),
      '-nostdin',
      '-trace_err',
      '-error_file',
      errorFile,
      ...(trace ? ['-trace_msg', '-message_file', messageFile] : []),
      ...(opts.extraArgs ?? []),
    ];
    const proc = await ManagedProcess.start({ name: `sipp ${name}:${port}`, command: SIPP_BIN, args, cwd: dir, logFile: join(dir, 'sipp.log'), stdout: 'ignore' });
    try {
      await waitUntil(`UDP port ${port} bound`, proc, async () => !(await (host === LAB_HOST ? isPortFree(port, 'udp') : udpFreeOn(host, port))), opts.startTimeoutMs ?? 10000);
      // bound by sipp itself, not by somebody else: sipp exits (rc 254) if it could not bind
      await sleep(100);
      if (!proc.running) throw new LabProcessError(`${proc.name} exited right after start (code ${proc.exitStatus?.code})`, proc.logTail());
    } catch (e) {
      lastErr = e;
      await proc.stop();
      if (opts.port === undefined && proc.exitStatus?.code === 254) continue; // bind race
      throw e;
    }
    const messages = (): Promise<string> => readIfExists(messageFile);
    return {
      port,
      scenario: sf,
      get pid() {
        return proc.running ? proc.pid : undefined;
      },
      get running() {
        return proc.running;
      },
      dir,
      messages,
      async waitForMessage(pattern: RegExp | string, timeoutMs = 5000): Promise<string> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const text = await messages();
          if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) return text;
          if (Date.now() > deadline) throw new Error(`${proc.name}: no message matching ${String(pattern)} within ${timeoutMs} ms; trace:\n${text.slice(-4000)}`);
          await sleep(50);
        }
      },
      errors: () => readIfExists(errorFile),
      async stop(): Promise<void> {
        await proc.stop();
      },
    };
  }
  throw lastErr;
}

export interface SippUacOptions {
  /** scenario name in test/scenarios (e.g. 'uac-call-answered') or a path */
  scenario: string;
  proxyPort: number;
  proxyHost?: string;
  /** R-URI user (-s); required by the call scenarios */
  callee?: string;
  /** -set caller (default +15550001234, a "peer network" number that is not challenged) */
  caller?: string;
  /** -set domain (default ims.lab) */
  domain?: string;
  /** number of calls (-m, default 1) */
  calls?: number;
  /** calls per second (-r, default 10) */
  rate?: number;
  /** -d: hold time before BYE for uac-call-answered (default 0) */
  holdMs?: number;
  /** global timeout in s; reaching it is a failure (default 20) */
  timeoutS?: number;
  /** digest credentials (-au / -ap) */
  auth?: { username: string; password: string };
  /** more -set NAME VALUE variables */
  vars?: Record<string, string | number>;
  /** local UDP port (default: free) */
  localPort?: number;
  /** local address (-i/-mi), default 127.0.0.1; '::1' runs the scenario over IPv6 */
  localHost?: string;
  /** SIPp transport: u1 (UDP, default) or t1 (one TCP connection) */
  transport?: 'u1' | 't1';
  extraArgs?: string[];
  /** given a reader of the -trace_msg text so far, to follow the call while it runs */
  onTrace?: (messages: () => Promise<string>) => void;
}

export interface SippUacResult {
  /** SIPp exit code: 0 = every call succeeded, 1 = some failed, 254 = bind error, 255 = fatal/timeout */
  exitCode: number;
  /** full -trace_msg text */
  messages: string;
  /** -trace_err text */
  errors: string;
  /** tail of SIPp's stdout/stderr (final statistics screen) */
  output: string;
  args: string[];
  dir: string;
}

/** Run a SIPp UAC to completion. Never throws for call failures: assert on exitCode. */
export async function runSippUac(opts: SippUacOptions): Promise<SippUacResult> {
  const sf = scenarioPath(opts.scenario);
  const dir = makeLabDir(`sipp-${basename(sf, '.xml')}`);
  const messageFile = join(dir, 'messages.log');
  const errorFile = join(dir, 'errors.log');
  const logFile = join(dir, 'sipp.log');
  opts.onTrace?.(() => readIfExists(messageFile));
  const timeoutS = opts.timeoutS ?? 20;
  const vars: Record<string, string | number> = { caller: opts.caller ?? '+15550001234', domain: opts.domain ?? LAB_DOMAIN, ...opts.vars };
  // only set variables the scenario declares: SIPp refuses unknown ones
  const xml = readFileSync(sf, 'utf8');
  const declared = new Set(
    (/<Global\s+variables="([^"]*)"/.exec(xml)?.[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const remoteHost = opts.proxyHost ?? LAB_HOST;
  const localHost = opts.localHost ?? LAB_HOST;
  const args = [
    `${remoteHost.includes(':') ? `[${remoteHost}]` : remoteHost}:${opts.proxyPort}`,
    '-sf',
    sf,
    '-i',
    localHost,
    '-p',
    String(opts.localPort ?? (await freePort(opts.transport === 't1' ? 'tcp' : 'udp'))),
    '-t',
    opts.transport ?? 'u1',
    '-mi',
    localHost,
    '-m',
    String(opts.calls ?? 1),
    '-r',
    String(opts.rate ?? 10),
    '-d',
    String(opts.holdMs ?? 0),
    '-nostdin',
    '-timeout',
    `${timeoutS}s`,
    '-timeout_error',
    '-trace_msg',
    '-message_file',
    messageFile,
    '-trace_err',
    '-error_file',
    errorFile,
  ];
  if (opts.callee !== undefined) args.push('-s', opts.callee);
  for (const [k, v] of Object.entries(vars)) if (declared.has(k)) args.push('-set', k, String(v));
  if (opts.auth) args.push('-au', opts.auth.username, '-ap', opts.auth.password);
  args.push(...(opts.extraArgs ?? []));

  const proc = await ManagedProcess.start({ name: `sipp ${basename(sf, '.xml')}`, command: SIPP_BIN, args, cwd: dir, logFile });
  const guard = setTimeout(() => proc.killNow(), (timeoutS + 15) * 1000);
  const st = await proc.exited;
  clearTimeout(guard);
  await proc.stop(); // reap anything left in the group
  return {
    exitCode: st.code ?? 128 + (st.signal === 'SIGKILL' ? 9 : 15),
    messages: await readIfExists(messageFile),
    errors: await readIfExists(errorFile),
    output: tailFile(logFile, 30),
    args,
    dir,
  };
}

/** REGISTER user (digest) via uac-register.xml; resolves with the SIPp result (exitCode 0 = 200 OK). */
export function sippRegister(opts: { proxyPort: number; user: string; password: string; expires?: number; domain?: string; localPort?: number }): Promise<SippUacResult> {
  return runSippUac({
    scenario: 'uac-register',
    proxyPort: opts.proxyPort,
    domain: opts.domain,
    localPort: opts.localPort,
    auth: { username: opts.user, password: opts.password },
    vars: { user: opts.user, expires: opts.expires ?? 600 },
    timeoutS: 10,
  });
}

// ========================================================================================
// Whole lab
// ========================================================================================

export interface LabOptions {
  /** start Redis too (default true) */
  redis?: boolean;
  /** ring time of the answering UASs (default 10 ms) */
  ringMs?: number;
  kamailio?: Omit<KamailioOptions, 'uasPort' | 'busyPort' | 'psapPort' | 'noAnswerPort' | 'byePort'>;
}

export interface Lab {
  readonly redis: RedisInstance | null;
  readonly kamailio: KamailioInstance;
  readonly uas: {
    /** uas-answer-200.xml (traced) */
    answer: SippUas;
    /** uas-busy-486.xml */
    busy: SippUas;
    /** uas-ring-no-answer.xml (traced) */
    noAnswer: SippUas;
    /** uas-answer-then-bye.xml (traced) */
    bye: SippUas;
    /** PSAP for urn:service:sos: uas-answer-200.xml (traced) */
    psap: SippUas;
  };
  readonly numbers: typeof LAB_NUMBERS;
  readonly domain: typeof LAB_DOMAIN;
  /** stop everything (by PID), in parallel; never throws */
  stop(): Promise<void>;
}

/** Redis + Kamailio + the five SIPp UASs, wired together. */
export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.map((s) => s.stop()));
  };
  try {
    const ringMs = opts.ringMs ?? 10;
    // allSettled: even if one fails, every one that did start is known to stopAll()
    const results = await Promise.allSettled([
      startSippUas('uas-answer-200', { ringMs, name: 'answer' }),
      startSippUas('uas-busy-486', { name: 'busy', trace: false }),
      startSippUas('uas-ring-no-answer', { name: 'noanswer' }),
      startSippUas('uas-answer-then-bye', { ringMs, name: 'bye' }),
      startSippUas('uas-answer-200', { ringMs, name: 'psap' }),
    ]);
    for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    const [answer, busy, noAnswer, bye, psap] = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    if (!answer || !busy || !noAnswer || !bye || !psap) throw new Error('startLab: a UAS did not start');
    const kamailio = await startKamailio({
      ...opts.kamailio,
      uasPort: answer.port,
      busyPort: busy.port,
      psapPort: psap.port,
      noAnswerPort: noAnswer.port,
      byePort: bye.port,
    });
    started.push(kamailio);
    let redis: RedisInstance | null = null;
    if (opts.redis ?? true) {
      redis = await startRedis();
      started.push(redis);
    }
    return { redis, kamailio, uas: { answer, busy, noAnswer, bye, psap }, numbers: LAB_NUMBERS, domain: LAB_DOMAIN, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

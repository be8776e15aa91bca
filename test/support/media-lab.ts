/**
 * The media side of the lab: rtpengine (media relay, userspace only) and baresip (a SIP phone
 * with real audio: a tone), on free loopback ports, stopped by PID like the rest of lab.ts.
 *
 *   const rtp = await startRtpengine();                       // pass rtp.kamailioDefines to startKamailio
 *   const phone = await startBaresip({ proxyPort: lab.kamailio.port, user, password });
 *   ... await rtp.streams() ...                               // packet counters per call leg
 *
 * Needs rtpengine (rtpengine-daemon) and baresip (baresip-core) on PATH (scripts/install-test-deps.sh).
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, isPortFree, LAB_DOMAIN, LAB_HOST } from './lab';
import { ManagedProcess, makeLabDir, waitUntil } from './proc';

const RTPENGINE_BIN = process.env.LAB_RTPENGINE_BIN ?? 'rtpengine';
const BARESIP_BIN = process.env.LAB_BARESIP_BIN ?? 'baresip';

/** The lab's SIP phone: a Kamailio subscriber whose calls rtpengine anchors (LAB_PHONE_USER in kamailio.cfg). */
export const LAB_PHONE = { user: '+17085850002', password: 's3cr3t-0002' } as const;

// ----------------------------------------------------------------------------------------
// bencode, for rtpengine's ng control protocol
// ----------------------------------------------------------------------------------------

export type Bencoded = string | number | Bencoded[] | { [key: string]: Bencoded };

export function bencode(v: Bencoded): string {
  if (typeof v === 'number') return `i${Math.trunc(v)}e`;
  if (typeof v === 'string') return `${Buffer.byteLength(v)}:${v}`;
  if (Array.isArray(v)) return `l${v.map(bencode).join('')}e`;
  const keys = Object.keys(v).sort();
  return `d${keys.map((k) => bencode(k) + bencode(v[k] as Bencoded)).join('')}e`;
}

export function bdecode(buf: Buffer): Bencoded {
  let i = 0;
  const next = (): Bencoded => {
    const c = String.fromCharCode(buf[i] ?? 0);
    if (c === 'i') {
      const end = buf.indexOf(0x65, i); // 'e'
      const n = Number(buf.toString('latin1', i + 1, end));
      i = end + 1;
      return n;
    }
    if (c === 'l') {
      i++;
      const out: Bencoded[] = [];
      while (buf[i] !== 0x65) out.push(next());
      i++;
      return out;
    }
    if (c === 'd') {
      i++;
      const out: Record<string, Bencoded> = {};
      while (buf[i] !== 0x65) {
        const k = next();
        if (typeof k !== 'string') throw new Error(`bdecode: dictionary key at ${i} is not a string`);
        out[k] = next();
      }
      i++;
      return out;
    }
    if (c >= '0' && c <= '9') {
      const colon = buf.indexOf(0x3a, i); // ':'
      const len = Number(buf.toString('latin1', i, colon));
      const s = buf.toString('utf8', colon + 1, colon + 1 + len);
      i = colon + 1 + len;
      return s;
    }
    throw new Error(`bdecode: unexpected byte ${c} at ${i}`);
  };
  return next();
}

function isDict(v: Bencoded | undefined): v is { [key: string]: Bencoded } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ----------------------------------------------------------------------------------------
// rtpengine
// ----------------------------------------------------------------------------------------

/** Packets rtpengine received on one side of a call (one "tag" = one party). */
export interface RtpengineLeg {
  callId: string;
  tag: string;
  /** transport protocol of this side, e.g. "UDP/TLS/RTP/SAVPF" (browser) or "RTP/AVP" (phone) */
  protocol: string;
  /** RTP+RTCP packets rtpengine received from this party */
  packetsIn: number;
}

export interface RtpengineInstance {
  /** ng control port on 127.0.0.1 */
  readonly ngPort: number;
  /** -A defines for startKamailio({ defines }) */
  readonly kamailioDefines: Record<string, string>;
  readonly dir: string;
  readonly pid: number | undefined;
  /** one ng request, e.g. { command: 'ping' } */
  ng(request: { [key: string]: Bencoded }): Promise<{ [key: string]: Bencoded }>;
  /** every leg of every call rtpengine currently relays */
  legs(): Promise<RtpengineLeg[]>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/**
 * rtpengine in userspace mode (--table=-1: no kernel module) on 127.0.0.1, media ports from a free block.
 * `interfaces`: --interface values (default ['127.0.0.1']), e.g. logical ones: ['internal/127.0.0.1', 'external/127.0.0.1'].
 */
export async function startRtpengine(opts: { interfaces?: string[]; startTimeoutMs?: number } = {}): Promise<RtpengineInstance> {
  const dir = makeLabDir('rtpengine');
  const ngPort = await freePort('udp');
  const portMin = await freePort('udp');
  const proc = await ManagedProcess.start({
    name: `rtpengine:${ngPort}`,
    command: RTPENGINE_BIN,
    args: [
      '--config-file=none',
      '--foreground',
      '--log-stderr',
      '--log-level=5',
      '--table=-1',
      ...(opts.interfaces ?? [LAB_HOST]).map((i) => `--interface=${i}`),
      `--listen-ng=${LAB_HOST}:${ngPort}`,
      `--port-min=${portMin}`,
      `--port-max=${portMin + 199}`,
      '--timeout=60',
    ],
    cwd: dir,
    logFile: join(dir, 'rtpengine.log'),
  });

  const ng = (request: { [key: string]: Bencoded }, timeoutMs = 2000): Promise<{ [key: string]: Bencoded }> =>
    new Promise((resolve, reject) => {
      const cookie = randomBytes(6).toString('hex');
      const sock = createSocket('udp4');
      const timer = setTimeout(() => {
        sock.close();
        reject(new Error(`rtpengine ng ${JSON.stringify(request.command)}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.on('message', (msg) => {
        const sp = msg.indexOf(0x20);
        if (msg.toString('latin1', 0, sp) !== cookie) return;
        clearTimeout(timer);
        sock.close();
        const body = bdecode(msg.subarray(sp + 1));
        if (isDict(body)) resolve(body);
        else reject(new Error('rtpengine ng: answer is not a dictionary'));
      });
      sock.send(`${cookie} ${bencode(request)}`, ngPort, LAB_HOST);
    });

  try {
    await waitUntil('ng ping', proc, async () => (await ng({ command: 'ping' }, 300)).result === 'pong', opts.startTimeoutMs ?? 10000, 100);
  } catch (e) {
    await proc.stop();
    throw e;
  }

  return {
    ngPort,
    kamailioDefines: { LAB_RTPENGINE_SOCK: `"udp:${LAB_HOST}:${ngPort}"` },
    dir,
    get pid() {
      return proc.running ? proc.pid : undefined;
    },
    ng,
    async legs(): Promise<RtpengineLeg[]> {
      const list = await ng({ command: 'list', limit: 100 });
      const callIds = Array.isArray(list.calls) ? list.calls.map(String) : [];
      const out: RtpengineLeg[] = [];
      for (const callId of callIds) {
        const q = await ng({ command: 'query', 'call-id': callId });
        const tags = isDict(q.tags) ? q.tags : {};
        for (const [tag, t] of Object.entries(tags)) {
          if (!isDict(t) || !Array.isArray(t.medias)) continue;
          let packetsIn = 0;
          let protocol = '';
          for (const m of t.medias) {
            if (!isDict(m)) continue;
            if (typeof m.protocol === 'string') protocol = m.protocol;
            for (const s of Array.isArray(m.streams) ? m.streams : []) {
              if (isDict(s) && isDict(s.stats) && typeof s.stats.packets === 'number') packetsIn += s.stats.packets;
            }
          }
          out.push({ callId, tag, protocol, packetsIn });
        }
      }
      return out;
    },
    logTail: (lines?: number) => proc.logTail(lines),
    stop: () => proc.stop().then(() => undefined),
  };
}

// ----------------------------------------------------------------------------------------
// baresip
// ----------------------------------------------------------------------------------------

export interface BaresipOptions {
  /** Kamailio SIP port on 127.0.0.1 (the phone registers there over UDP) */
  proxyPort: number;
  user?: string;
  password?: string;
  /** log every SIP message (baresip -s) to the lab dir (default false) */
  sipTrace?: boolean;
  /** accept commands (dial, hangup) on a loopback TCP port: baresip's ctrl_tcp and menu modules (default false) */
  control?: boolean;
  startTimeoutMs?: number;
}

export interface BaresipInstance {
  readonly user: string;
  readonly sipPort: number;
  readonly dir: string;
  readonly pid: number | undefined;
  logTail(lines?: number): string;
  /** true once baresip logged incoming RTP on an audio stream (media reached the phone) */
  receivedRtp(): boolean;
  /** run a baresip command (needs `control`), e.g. command('dial', 'sip:+17085852753@ims.lab') */
  command(name: string, params?: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * baresip registered to the lab Kamailio as a subscriber, auto-answering every call and sending a
 * 440 Hz tone (ausine); what it receives is played into a null device. Opus and G.711, plain
 * RTP/AVP. Honours hold (recvonly/inactive) and resume. Resolves once its SIP socket is bound; wait
 * for the registration with kamailio.locations().
 */
export async function startBaresip(opts: BaresipOptions): Promise<BaresipInstance> {
  const user = opts.user ?? LAB_PHONE.user;
  const password = opts.password ?? LAB_PHONE.password;
  const dir = makeLabDir('baresip');
  const confDir = join(dir, 'conf');
  mkdirSync(confDir, { recursive: true });
  const sipPort = await freePort('udp');
  const rtpMin = await freePort('udp');
  const ctrlPort = opts.control ? await freePort('tcp') : 0;
  writeFileSync(
    join(confDir, 'config'),
    [
      'poll_method epoll',
      `sip_listen ${LAB_HOST}:${sipPort}`,
      'net_interface 127.0.0.1',
      `rtp_ports ${rtpMin}-${rtpMin + 99}`,
      'rtcp_mux no',
      'audio_player aubridge,phone-speaker',
      'audio_source ausine,440',
      'audio_alert aubridge,phone-alert',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module opus.so',
      'module aubridge.so',
      'module ausine.so',
      'module_app account.so',
      ...(opts.control ? ['module_app menu.so', 'module_app ctrl_tcp.so', `ctrl_tcp_listen ${LAB_HOST}:${ctrlPort}`] : []),
      '',
    ].join('\n'),
  );
  // the password stays in this file (the lab dir), never on a command line or in a log
  writeFileSync(
    join(confDir, 'accounts'),
    `<sip:${user}@${LAB_DOMAIN}>;auth_user=${user};auth_pass=${password};outbound="sip:${LAB_HOST}:${opts.proxyPort};transport=udp";regint=600;answermode=auto;audio_codecs=opus/48000/2,PCMU,PCMA\n`,
    { mode: 0o600 },
  );
  writeFileSync(join(confDir, 'contacts'), '');
  const proc = await ManagedProcess.start({
    name: `baresip ${user}`,
    command: BARESIP_BIN,
    args: ['-4', ...(opts.sipTrace ? ['-s'] : []), '-f', confDir],
    cwd: dir,
    logFile: join(dir, 'baresip.log'),
  });
  try {
    await waitUntil(`baresip UDP ${sipPort} bound`, proc, async () => !(await isPortFree(sipPort, 'udp')), opts.startTimeoutMs ?? 10000, 100);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return {
    user,
    sipPort,
    dir,
    get pid() {
      return proc.running ? proc.pid : undefined;
    },
    logTail: (lines?: number) => proc.logTail(lines),
    receivedRtp: () => /incoming rtp for 'audio' established/.test(proc.logTail(400)),
    command: (name: string, params = '') =>
      new Promise<void>((resolve, reject) => {
        if (!opts.control) return reject(new Error('startBaresip: control is off'));
        // ctrl_tcp: a netstring-framed JSON command; baresip answers with a netstring-framed response
        const json = JSON.stringify({ command: name, params, token: randomBytes(4).toString('hex') });
        const sock = connect({ host: LAB_HOST, port: ctrlPort }, () => sock.write(`${Buffer.byteLength(json)}:${json},`));
        const timer = setTimeout(() => sock.destroy(new Error(`baresip command ${name}: no response within 5 s`)), 5000);
        let reply = '';
        sock.on('data', (d: Buffer) => {
          reply += d.toString('utf8');
          if (reply.includes('"response"')) sock.end();
        });
        sock.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        sock.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
    stop: () => proc.stop().then(() => undefined),
  };
}

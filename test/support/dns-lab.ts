/**
 * The lab's DNS server: dnsmasq (Debian `dnsmasq-base`, see scripts/install-test-deps.sh) on a
 * free 127.0.0.1 port, authoritative for the names it is given and nothing else (no upstream, no
 * /etc/hosts), for RFC 3263 tests (NAPTR → SRV → A):
 *
 *   const dns = await startDnsServer({ naptr: [...], srv: [...], a: [...] });
 *   ... SIP_DNS_SERVERS: dns.server ...
 *   await dns.stop();
 *
 * Spawned without a shell, in the foreground, stopped by PID (proc.ts).
 */
import { writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { freePort } from './ports';
import { ManagedProcess, makeLabDir, waitUntil } from './proc';

const DNSMASQ_BIN = process.env.LAB_DNSMASQ_BIN ?? '/usr/sbin/dnsmasq';

export interface NaptrEntry {
  name: string;
  order: number;
  preference: number;
  /** e.g. `SIP+D2U` */
  service: string;
  /** the SRV name, e.g. `_sip._udp.pcscf.ims.lab` */
  replacement: string;
}

export interface SrvEntry {
  /** e.g. `_sip._udp.pcscf.ims.lab` */
  name: string;
  target: string;
  port: number;
  priority: number;
  weight: number;
}

export interface DnsRecords {
  naptr?: NaptrEntry[];
  srv?: SrvEntry[];
  /** name → IPv4 or IPv6 address */
  a?: Array<{ name: string; address: string }>;
  /** Answers' TTL in seconds (default 1: tests see changes quickly). */
  ttlS?: number;
  /** Domains answered locally (NXDOMAIN for unknown names; default: the `lab` TLD). */
  localDomains?: string[];
}

export interface DnsServer {
  /** `127.0.0.1:PORT`, for SIP_DNS_SERVERS */
  readonly server: string;
  readonly port: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** The dnsmasq configuration for the records (one option per line, as in dnsmasq.conf). */
export function dnsmasqConfig(port: number, records: DnsRecords): string {
  const lines = [
    `port=${port}`,
    'listen-address=127.0.0.1',
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'no-poll',
    'no-negcache',
    'log-queries',
    'log-facility=-',
    'user=root',
    `local-ttl=${records.ttlS ?? 1}`,
    ...(records.localDomains ?? ['lab']).map((d) => `local=/${d}/`),
    ...(records.a ?? []).map((r) => `host-record=${r.name},${r.address}`),
    ...(records.srv ?? []).map((r) => `srv-host=${r.name},${r.target},${r.port},${r.priority},${r.weight}`),
    ...(records.naptr ?? []).map((r) => `naptr-record=${r.name},${r.order},${r.preference},S,${r.service},,${r.replacement}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * dnsmasq serving `records`; resolves once it answers a query for one of them. `port`: a fixed one,
 * e.g. the port of a server just stopped, to change a record under a client that keeps its servers.
 */
export async function startDnsServer(records: DnsRecords, opts: { port?: number } = {}): Promise<DnsServer> {
  const dir = makeLabDir('dnsmasq');
  const port = opts.port ?? (await freePort('both'));
  const conf = join(dir, 'dnsmasq.conf');
  const logFile = join(dir, 'dnsmasq.log');
  writeFileSync(conf, dnsmasqConfig(port, records));
  const proc = await ManagedProcess.start({ name: `dnsmasq:${port}`, command: DNSMASQ_BIN, args: ['--keep-in-foreground', `--conf-file=${conf}`, '--pid-file='], cwd: dir, logFile });
  const server = `127.0.0.1:${port}`;
  const probe = new Resolver({ timeout: 300, tries: 1 });
  probe.setServers([server]);
  const first = records.a?.[0]?.name;
  try {
    await waitUntil(
      'dnsmasq answering',
      proc,
      async () => {
        if (first) return (await probe.resolve(first)).length > 0;
        await probe.resolve4('nothing.lab').catch((e: { code?: string }) => {
          if (e.code !== 'ENOTFOUND') throw e;
        });
        return true;
      },
      10_000,
      100,
    );
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return {
    server,
    port,
    logFile,
    stop: () => proc.stop(5000).then(() => undefined),
  };
}

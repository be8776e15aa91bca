/**
 * docker-compose.yml cannot be run in CI (no Docker), so check what can be checked statically:
 * the services exist, and every host path it mounts or builds from exists in the repo.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '..', '..');

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (!isRecord(v)) throw new Error(`${what} is not a mapping`);
  return v;
}

/** Host paths of a service: build context (+ Dockerfile) and bind-mount sources. */
function hostPaths(service: Record<string, unknown>): string[] {
  const out: string[] = [];
  const build = service['build'];
  if (typeof build === 'string') out.push(build);
  else if (isRecord(build)) {
    const ctx = typeof build['context'] === 'string' ? build['context'] : '.';
    out.push(ctx);
    if (typeof build['dockerfile'] === 'string') out.push(join(ctx, build['dockerfile']));
  }
  const volumes = service['volumes'];
  if (Array.isArray(volumes)) {
    for (const v of volumes as unknown[]) {
      if (typeof v === 'string') {
        const src = v.split(':')[0] ?? '';
        if (src.startsWith('.') || src.startsWith('/')) out.push(src); // else: a named volume
      } else if (isRecord(v) && v['type'] === 'bind' && typeof v['source'] === 'string') {
        out.push(v['source']);
      }
    }
  }
  return out;
}

describe('docker-compose.yml', () => {
  const doc = asRecord(parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')), 'docker-compose.yml');
  const services = asRecord(doc['services'], 'services');

  it('defines two gateway instances, redis, kamailio, sipp-uas, prometheus and grafana services', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['gateway-a', 'gateway-b', 'redis', 'kamailio', 'sipp-uas', 'prometheus', 'grafana']));
  });

  it.each(Object.keys(services))('service %s only references host paths that exist in the repo', (name) => {
    const paths = hostPaths(asRecord(services[name], name));
    for (const p of paths) {
      expect(isAbsolute(p)).toBe(false); // a fresh clone has nothing outside the repo
      expect({ path: p, exists: existsSync(resolve(ROOT, p)) }).toEqual({ path: p, exists: true });
    }
  });

  it('every service but redis is built from the repo or mounts from it', () => {
    for (const name of ['gateway-a', 'gateway-b', 'kamailio', 'sipp-uas']) expect(hostPaths(asRecord(services[name], name)).length).toBeGreaterThan(0);
  });

  const GATEWAYS = { 'gateway-a': { ip: '172.28.0.11', rest: '8080' }, 'gateway-b': { ip: '172.28.0.12', rest: '8081' } } as const;

  it.each(Object.entries(GATEWAYS))('wires %s to the one redis, kamailio and the lab files, with its own Contact address and REST port', (name, { ip, rest }) => {
    const service = asRecord(services[name], name);
    const env = asRecord(service['environment'], `${name}.environment`);
    expect(env).toMatchObject({
      REDIS_URL: 'redis://redis:6379',
      SIP_OUTBOUND_PROXY: 'sip:kamailio:5060;transport=udp',
      SIP_DOMAIN: 'ims.lab',
      SIP_LISTEN_PORT: '5070',
      SIP_ADVERTISED_ADDRESS: ip,
    });
    const mounts = hostPaths(service);
    expect(mounts).toEqual(expect.arrayContaining(['./test/lab/sip-credentials.json', './test/lab/idp/jwks.json']));
    expect((service['ports'] as unknown[]).map(String)).toEqual([`${rest}:8080`]);
    expect(asRecord(asRecord(service['networks'], `${name}.networks`)['lab'], `${name}.networks.lab`)['ipv4_address']).toBe(ip);
  });

  it("kamailio's dispatcher lists exactly the two gateway instances, by the addresses they advertise, inside the lab subnet", () => {
    const kamailio = asRecord(services['kamailio'], 'kamailio');
    const args = (kamailio['command'] as unknown[]).map(String);
    expect(args).toEqual(expect.arrayContaining(['LAB_DISPATCHER_LIST="/etc/kamailio-lab/dispatcher.list"']));
    const mount = (kamailio['volumes'] as unknown[]).map((v) => asRecord(v, 'volume')).find((v) => v['target'] === '/etc/kamailio-lab/dispatcher.list');
    expect(mount?.['source']).toBe('./test/lab/kamailio/dispatcher.compose.list');
    const list = readFileSync(join(ROOT, 'test/lab/kamailio/dispatcher.compose.list'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(list).toEqual(Object.values(GATEWAYS).map(({ ip }) => `1 sip:${ip}:5070`));
    const ipam = asRecord(asRecord(asRecord(doc['networks'], 'networks')['lab'], 'networks.lab')['ipam'], 'ipam');
    expect(ipam['config']).toEqual([{ subnet: '172.28.0.0/24' }]);
    // the config really has the dispatcher block the define switches on
    expect(readFileSync(join(ROOT, 'test/lab/kamailio/kamailio.cfg'), 'utf8')).toMatch(/#!ifdef LAB_DISPATCHER_LIST\nloadmodule "dispatcher.so"/);
  });

  it('kamailio listens on all container addresses (not loopback) and routes to sipp-uas', () => {
    const cmd = asRecord(services['kamailio'], 'kamailio')['command'];
    expect(Array.isArray(cmd)).toBe(true);
    const args = (cmd as unknown[]).map(String);
    expect(args).toEqual(expect.arrayContaining(['LAB_LISTEN_IP=0.0.0.0', 'LAB_UAS_HOST="sipp-uas"']));
  });

  it('anchors phone calls in rtpengine (userspace, media ports on 127.0.0.1 only) and runs the SIP phone', () => {
    const kamailio = (asRecord(services['kamailio'], 'kamailio')['command'] as unknown[]).map(String);
    expect(kamailio).toEqual(expect.arrayContaining(['LAB_RTPENGINE_SOCK="udp:rtpengine:2223"']));
    const rtpengine = asRecord(services['rtpengine'], 'rtpengine');
    expect((rtpengine['command'] as unknown[]).map(String)).toEqual(expect.arrayContaining(['--listen-ng=0.0.0.0:2223', '--interface=external/eth0!127.0.0.1']));
    for (const port of rtpengine['ports'] as unknown[]) expect(String(port)).toMatch(/^127\.0\.0\.1:/);
    const dockerfile = readFileSync(join(ROOT, 'test/lab/rtpengine/Dockerfile'), 'utf8');
    expect(dockerfile).toContain('--table=-1');
    expect(readFileSync(join(ROOT, 'test/lab/baresip/accounts'), 'utf8')).toContain('<sip:+17085850002@ims.lab>');
  });

  it('the SIP credentials file matches the lab subscribers of kamailio.cfg', () => {
    const creds: unknown = JSON.parse(readFileSync(join(ROOT, 'test/lab/sip-credentials.json'), 'utf8'));
    const cfg = readFileSync(join(ROOT, 'test/lab/kamailio/kamailio.cfg'), 'utf8');
    const fromCfg = Object.fromEntries([...cfg.matchAll(/\$sht\(subs=>(\+\d+)\) = "([^"]+)";/g)].map((m) => [m[1], { password: m[2] }]));
    expect(creds).toEqual(fromCfg);
  });
});

describe('docker-compose monitoring', () => {
  it('Prometheus scrapes both gateway instances, and Grafana loads the dashboard from the mounted folder', () => {
    const prom = readFileSync(resolve(__dirname, '..', '..', 'deploy', 'prometheus', 'prometheus.yml'), 'utf8');
    expect(prom).toContain("targets: ['gateway-a:8080', 'gateway-b:8080']");
    const provider = readFileSync(
      resolve(__dirname, '..', '..', 'deploy', 'grafana', 'provisioning', 'dashboards', readdirSync(resolve(__dirname, '..', '..', 'deploy', 'grafana', 'provisioning', 'dashboards'))[0]!),
      'utf8',
    );
    expect(provider).toContain('/var/lib/grafana/dashboards');
    const dashboard = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'deploy', 'grafana', 'dashboards', 'gateway.json'), 'utf8')) as { panels?: unknown[] };
    expect(dashboard.panels?.length).toBeGreaterThan(3);
  });
});

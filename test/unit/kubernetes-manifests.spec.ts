/**
 * deploy/kubernetes cannot be applied in CI (no cluster), so check what can be checked without one:
 * every object is valid against the Kubernetes API schemas (kubernetes-models), the objects refer to
 * each other correctly, and the settings they give the container are accepted by the gateway's own
 * configuration check, with probes on routes the gateway serves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PATH_METADATA } from '@nestjs/common/constants';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parseAllDocuments, parse } from 'yaml';
import { loadConfig } from '../../src/config/app-config';
import { HealthController } from '../../src/observability/health/health.controller';
import { parseCredentials } from '../../src/sip/sip-credentials.provider';

const DIR = resolve(__dirname, '..', '..', 'deploy', 'kubernetes');

interface Manifest {
  file: string;
  object: { apiVersion?: string; kind?: string; metadata?: { name?: string } } & Record<string, unknown>;
}

function manifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const doc of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      out.push({ file, object: doc.toJS() as Manifest['object'] });
    }
  }
  return out;
}

/** The kubernetes-models class for each kind we ship; validate() throws with the JSON pointer of the problem. */
const MODELS: Record<string, (o: object) => { validate(): void }> = {
  'apps/v1/Deployment': (o) => new Deployment(o),
  'v1/Service': (o) => new Service(o),
  'v1/ConfigMap': (o) => new ConfigMap(o),
  'v1/Secret': (o) => new Secret(o),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o),
  'autoscaling/v2/HorizontalPodAutoscaler': (o) => new HorizontalPodAutoscaler(o),
};

function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0] as T;
}

describe('deploy/kubernetes', () => {
  const all = manifests();
  const byKind = (kind: string): Manifest['object'][] => all.filter((m) => m.object.kind === kind).map((m) => m.object);
  const deployment = new Deployment(only(byKind('Deployment'), 'Deployment'));
  const configMap = new ConfigMap(only(byKind('ConfigMap'), 'ConfigMap'));
  const secret = new Secret(only(byKind('Secret'), 'Secret'));
  const pod = deployment.spec?.template;
  const container = only(pod?.spec?.containers ?? [], 'container');
  const podLabels = pod?.metadata?.labels ?? {};

  it.each(all.map((m) => [`${m.file}: ${m.object.kind ?? '?'} ${m.object.metadata?.name ?? '?'}`, m] as const))('%s is valid against the Kubernetes API schema', (_name, m) => {
    const model = MODELS[`${m.object.apiVersion ?? ''}/${m.object.kind ?? ''}`];
    if (!model) throw new Error(`${m.file}: no schema known for ${m.object.apiVersion}/${m.object.kind}`);
    expect(() => model(m.object).validate()).not.toThrow();
  });

  it('the validation rejects a broken object (positive control)', () => {
    const broken = structuredClone(only(byKind('Deployment'), 'Deployment')) as { spec: { replicas: unknown } };
    broken.spec.replicas = 'three';
    expect(() => MODELS['apps/v1/Deployment']?.(broken).validate()).toThrow(/replicas/);
  });

  it('kustomization.yaml lists every manifest of the folder', () => {
    const kustomization = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual([...new Set(all.map((m) => m.file))].sort());
  });

  it('every selector selects the gateway pods, and the HPA scales the Deployment', () => {
    const matches = (selector: Record<string, string> | undefined): boolean => !!selector && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    expect(matches(deployment.spec?.selector.matchLabels)).toBe(true);
    for (const s of byKind('Service').map((o) => new Service(o as never))) expect(matches(s.spec?.selector)).toBe(true);
    expect(matches(new PodDisruptionBudget(only(byKind('PodDisruptionBudget'), 'PodDisruptionBudget') as never).spec?.selector?.matchLabels)).toBe(true);
    const hpa = new HorizontalPodAutoscaler(only(byKind('HorizontalPodAutoscaler'), 'HorizontalPodAutoscaler'));
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata?.name });
  });

  it('the probes ask routes the gateway serves, on a port the container declares', () => {
    const base = Reflect.getMetadata(PATH_METADATA, HealthController) as string;
    const routes = (['live', 'ready'] as const).map((m) => `/${base}/${Reflect.getMetadata(PATH_METADATA, HealthController.prototype[m]) as string}`);
    const probes = [container.startupProbe, container.livenessProbe, container.readinessProbe];
    for (const probe of probes) {
      expect(routes).toContain(probe?.httpGet?.path);
      expect(container.ports?.map((p) => p.name)).toContain(probe?.httpGet?.port);
    }
    expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
  });

  it("the container's environment is accepted by the gateway's configuration check", () => {
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      expect(from.configMapRef?.name).toBe(configMap.metadata?.name);
      Object.assign(env, configMap.data);
    }
    for (const e of container.env ?? []) {
      const key = e.valueFrom?.secretKeyRef;
      if (key) {
        expect(key.name).toBe(secret.metadata?.name);
        const v = secret.stringData?.[key.key];
        if (v === undefined) throw new Error(`secret key ${key.key} is not in ${secret.metadata?.name}`);
        env[e.name] = v;
      } else if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') {
        env[e.name] = '10.42.0.17';
      } else if (e.value !== undefined) {
        env[e.name] = e.value;
      }
    }
    const config = loadConfig(env);
    expect(config.sip.advertisedAddress).toBe('10.42.0.17');
    // the gateway gives up on its backlog before Kubernetes kills it
    expect(config.shutdown.timeoutMs).toBeLessThan((pod?.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
    // the ports the gateway listens on are the ones the pod declares
    expect(container.ports?.find((p) => p.name === 'http')?.containerPort).toBe(config.http.port);
    expect(container.ports?.filter((p) => p.name?.startsWith('sip-')).map((p) => p.containerPort)).toEqual([config.sip.listenPort, config.sip.listenPort]);
  });

  it('the SIP credentials file is mounted where SIP_CREDENTIALS_FILE points, from a secret key in the expected format', () => {
    const path = configMap.data?.['SIP_CREDENTIALS_FILE'] ?? '';
    const volume = only(
      (pod?.spec?.volumes ?? []).filter((v) => container.volumeMounts?.some((m) => m.name === v.name && path.startsWith(`${m.mountPath}/`))),
      'volume holding SIP_CREDENTIALS_FILE',
    );
    const item = only(
      (volume.secret?.items ?? []).filter((i) => path.endsWith(`/${i.path}`)),
      'secret item',
    );
    expect(volume.secret?.secretName).toBe(secret.metadata?.name);
    expect(parseCredentials(JSON.parse(secret.stringData?.[item.key] ?? 'null')).size).toBeGreaterThan(0);
  });
});

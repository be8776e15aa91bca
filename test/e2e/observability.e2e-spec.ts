/**
 * Observability end to end: the real app (createApp) on real ports, probed over HTTP. The
 * dashboard rendered in a headless Chromium is dashboard.e2e-spec.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModulesContainer } from '@nestjs/core';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';
import type { OpenApiDocument } from '../../src/observability/openapi/openapi-document';
import { freePort } from '../support/ports';
import { startKamailio, type KamailioInstance } from '../support/lab';

const ADMIN_TOKEN = 'e2e-admin-token-5d1f0c7e9a8b4c3d';

async function boot(env: Record<string, string>): Promise<{ app: NestFastifyApplication; base: string }> {
  const port = await freePort('tcp');
  const config = loadConfig({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', SIP_LISTEN_PORT: String(await freePort('udp')), ADMIN_TOKEN, ...env });
  const app = await createApp(config);
  await app.listen(port, '127.0.0.1');
  await app.getHttpAdapter().getInstance().ready();
  return { app, base: `http://127.0.0.1:${port}` };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every (method, path) the Nest app routes, read from controller metadata. */
function nestRoutes(app: NestFastifyApplication): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  const join2 = (a: string, b: string): string =>
    `/${[a, b]
      .map((s) => s.replace(/^\/+|\/+$/g, ''))
      .filter((s) => s !== '')
      .join('/')}`;
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const cls = wrapper.metatype as (new (...a: never[]) => unknown) | null;
      if (!cls) continue;
      const prefixes = ([] as string[]).concat((Reflect.getMetadata(PATH_METADATA, cls) as string | string[] | undefined) ?? '');
      for (const name of Object.getOwnPropertyNames(cls.prototype)) {
        const handler = (cls.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function' || name === 'constructor') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const paths = ([] as string[]).concat((Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined) ?? '');
        for (const prefix of prefixes) for (const p of paths) out.push({ method: RequestMethod[method], path: join2(prefix, p) });
      }
    }
  }
  return out;
}

describe('Observability (gateway with an outbound proxy that does not answer)', () => {
  let app: NestFastifyApplication;
  let base: string;

  beforeAll(async () => {
    const deadProxy = await freePort('udp');
    ({ app, base } = await boot({ SIP_OUTBOUND_PROXY: `sip:127.0.0.1:${deadProxy};transport=udp` }));
  });
  afterAll(async () => {
    await app?.close();
  });

  describe('/metrics', () => {
    it('exposes every metric family in Prometheus text format, without a token', async () => {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      for (const family of [
        'gateway_call_attempts_total',
        'gateway_call_post_dial_delay_seconds',
        'gateway_call_setup_duration_seconds',
        'gateway_call_setup_results_total',
        'gateway_call_outcomes_total',
        'gateway_http_request_duration_seconds',
        'gateway_sip_messages_total',
        'gateway_sip_retransmissions_total',
        'gateway_sip_transaction_timeouts_total',
        'gateway_sip_transport_errors_total',
        'gateway_registrations_active',
        'gateway_registration_refresh_failures_total',
        'gateway_event_deliveries_total',
        'gateway_event_delivery_latency_seconds',
        'gateway_event_backlog',
        'gateway_events_dropped_total',
        'gateway_store_operation_duration_seconds',
        'gateway_store_operation_errors_total',
        'gateway_sessions_active',
        'nodejs_eventloop_lag_seconds',
        'nodejs_heap_size_used_bytes',
        'process_resident_memory_bytes',
      ]) {
        expect(text).toContain(`# TYPE ${family} `);
      }
      expect(text).toMatch(/^gateway_registrations_active 0$/m);
    });

    it('labels REST requests by route pattern, never by raw URL', async () => {
      const id = 'c0ffee00-1234-4abc-8def-000000000042';
      await fetch(`${base}/webrtc-registration/v0.4/sessions/${id}`);
      await fetch(`${base}/no/such/route/${id}`);
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toContain('gateway_http_request_duration_seconds_count{operation="GET /webrtc-registration/v0.4/sessions/:registrationId",status_code="401"} 1');
      expect(text).toContain('operation="GET unmatched",status_code="404"');
      expect(text).not.toContain(id);
    });
  });

  describe('/health', () => {
    it('is live', async () => {
      const res = await fetch(`${base}/health/live`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok' });
    });

    it('is not ready, naming the SIP proxy, while nothing answers OPTIONS', async () => {
      const body = await until('a readiness answer naming sipProxy', async () => {
        const res = await fetch(`${base}/health/ready`);
        expect(res.status).toBe(503);
        const b = (await res.json()) as { status: string; error: Record<string, { status: string; message?: string }>; info: Record<string, unknown> };
        return b.error.sipProxy?.message?.includes('does not answer') ? b : undefined;
      });
      expect(body.status).toBe('error');
      expect(body.error.sipProxy?.status).toBe('down');
      expect(body.info).toMatchObject({ store: { status: 'up' }, sipSocket: { status: 'up' } });
    });
  });

  describe('/dashboard', () => {
    it('refuses the data without credentials, or with a wrong token', async () => {
      const none = await fetch(`${base}/dashboard/data`);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      const wrong = await fetch(`${base}/dashboard/data`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}-nope` } });
      expect(wrong.status).toBe(401);
    });

    it('serves the data with ADMIN_TOKEN', async () => {
      const res = await fetch(`${base}/dashboard/data`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ active: { calls: 0, registrations: 0 }, calls: { windowS: 900 }, unavailable: [] });
    });

    it('serves a page with no data and a strict content security policy, and uPlot from node_modules', async () => {
      const page = await fetch(`${base}/dashboard`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('/dashboard/vendor/uPlot.iife.min.js');
      const lib = await fetch(`${base}/dashboard/vendor/uPlot.iife.min.js`);
      expect(lib.status).toBe(200);
      expect((await lib.text()).length).toBeGreaterThan(10_000);
      expect((await fetch(`${base}/dashboard/vendor/..%2Fpackage.json`)).status).toBe(404);
    });
  });

  describe('/openapi.json and /docs', () => {
    let doc: OpenApiDocument;
    beforeAll(async () => {
      doc = (await (await fetch(`${base}/openapi.json`)).json()) as OpenApiDocument;
    });

    it('describes every route the app serves', () => {
      const routes = nestRoutes(app);
      expect(routes.length).toBeGreaterThan(10);
      const fastify = app.getHttpAdapter().getInstance();
      const missing: string[] = [];
      for (const r of routes) {
        expect(fastify.hasRoute({ method: r.method, url: r.path })).toBe(true);
        const openApiPath = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        if (!doc.paths[openApiPath]?.[r.method.toLowerCase()]) missing.push(`${r.method} ${openApiPath}`);
      }
      expect(missing).toEqual([]);
    });

    it('validates the CAMARA examples against the served schemas', () => {
      const fixtures = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'camara-examples', 'examples.json'), 'utf8')) as { examples: Record<string, unknown> };
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats(ajv);
      ajv.addSchema({ $id: 'openapi', components: doc.components }, 'openapi');
      const prefix: Record<string, string> = {
        'webrtc-registration.yaml': '/webrtc-registration/v0.4',
        'webrtc-call-handling.yaml': '/webrtc-call-handling/v0.4',
        'webrtc-events.yaml': '/webrtc-events/v0.3',
      };
      const failures: string[] = [];
      let checked = 0;
      for (const [key, example] of Object.entries(fixtures.examples)) {
        const [file = '', operation = '', status = '', name = ''] = key.split('|');
        const [method = '', specPath = ''] = operation.split(' ');
        const op = doc.paths[`${prefix[file] ?? '?'}${specPath}`]?.[method.toLowerCase()] as
          { requestBody?: { content: Record<string, { schema: object }> }; responses: Record<string, { content?: Record<string, { schema: object }> }> } | undefined;
        if (!op) {
          failures.push(`${key}: operation not described`);
          continue;
        }
        const schema = status === 'request' ? op.requestBody?.content['application/json']?.schema : op.responses[status]?.content?.['application/json']?.schema;
        if (!schema) {
          failures.push(`${key}: no schema for ${status}`);
          continue;
        }
        const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/')) as object);
        checked++;
        if (!validate(example)) failures.push(`${file} ${operation} ${status} "${name}": ${ajv.errorsText(validate.errors)}`);
      }
      expect(failures).toEqual([]);
      expect(checked).toBeGreaterThan(20);
    });

    it('serves Swagger UI from local assets', async () => {
      const page = await fetch(`${base}/docs`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/docs/swagger-ui-bundle.js');
      expect((await fetch(`${base}/docs/swagger-ui-bundle.js`)).status).toBe(200);
      expect((await fetch(`${base}/docs/swagger-ui.css`)).status).toBe(200);
    });
  });
});

describe('Observability (gateway in front of Kamailio)', () => {
  let kamailio: KamailioInstance;
  let app: NestFastifyApplication;
  let base: string;

  beforeAll(async () => {
    kamailio = await startKamailio();
    ({ app, base } = await boot({ SIP_OUTBOUND_PROXY: kamailio.outboundProxy, SIP_DOMAIN: kamailio.domain }));
  });
  afterAll(async () => {
    await app?.close();
    await kamailio?.stop();
  });

  it('is ready once the proxy answers OPTIONS', async () => {
    const body = await until('readiness 200', async () => {
      const res = await fetch(`${base}/health/ready`);
      return res.status === 200 ? ((await res.json()) as { status: string; info: Record<string, { status: string }> }) : undefined;
    });
    expect(body.status).toBe('ok');
    expect(body.info).toMatchObject({ store: { status: 'up' }, sipSocket: { status: 'up' }, sipProxy: { status: 'up' } });
  });
});

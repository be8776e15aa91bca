import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, startLab } from '../support/lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';

const run = promisify(execFile);
const RULES = resolve(__dirname, '../../deploy/prometheus/rules.yml');
const ALICE = '+17085852753';
const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const SCOPES = ['webrtc-registration:sessions:create', 'webrtc-call-handling:sessions:create', 'webrtc-call-handling:sessions:read', 'webrtc-call-handling:sessions:delete'].join(' ');
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
/** The real call mix is replayed every STEP (so the 5-minute rates pass the alert's volume floor). */
const STEP_S = 10;
const STEPS = 80;

/** One sample per series of a Prometheus text exposition, `name{labels}` → value. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m?.[1] && m[2] !== undefined && Number.isFinite(Number(m[2]))) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** `gateway_call_setup_results_total` delta summed over the series whose labels match. */
const delta = (before: Map<string, number>, after: Map<string, number>, name: string, match: (labels: string) => boolean): number =>
  [...after].filter(([k]) => k.startsWith(`${name}{`) && match(k)).reduce((sum, [k, v]) => sum + v - (before.get(k) ?? 0), 0);

describe('Prometheus rules evaluated by promtool on series from real calls', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let token: string;
  let registrationId: string;

  beforeAll(async () => {
    lab = await startLab({ ringMs: 100 });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp, { SIP_RING_TIMEOUT_MS: '3000' });
    token = await idp.token({ phone_number: ALICE, scope: SCOPES });
    const reg = await gw.request('POST', REG, { token, body: { deviceId: randomUUID() } });
    expect(reg.status).toBe(201);
    registrationId = (reg.body as { registrationId: string }).registrationId;
  });
  afterAll(async () => {
    await gw?.close();
    await lab?.stop();
  });

  const scrape = async (): Promise<Map<string, number>> => {
    const res = await gw.request('GET', '/metrics');
    return parseExposition(res.text);
  };
  const callAndSettle = async (to: string, final: string): Promise<void> => {
    const res = await gw.request('POST', CALLS, {
      token,
      headers: { registrationid: registrationId },
      body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${to}`, offer: { sdp: OFFER } },
    });
    expect(res.status).toBe(201);
    const id = (res.body as { mediaSessionId: string }).mediaSessionId;
    await eventually(
      async () => {
        const s = (await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status: string };
        return s.status === final ? s : undefined;
      },
      10_000,
      `status ${final}`,
    );
    if (final === 'Connected') expect((await gw.request('DELETE', `${CALLS}/${id}`, { token })).status).toBe(204);
  };

  it('computes ASR, SER and SEER from the gateway metrics and pages when setups fail', async () => {
    const before = await scrape();
    await callAndSettle(lab.numbers.answer, 'Connected');
    await callAndSettle(lab.numbers.answer, 'Connected');
    await callAndSettle(lab.numbers.busy, 'Busy');
    const after = await eventually(
      async () => {
        const m = await scrape();
        return delta(before, m, 'gateway_call_setup_results_total', () => true) >= 3 ? m : undefined;
      },
      5_000,
      'three concluded setups in /metrics',
    );

    const results = 'gateway_call_setup_results_total';
    const answered = delta(before, after, results, (k) => /sip_code="2\d\d"/.test(k));
    const concluded = delta(before, after, results, () => true);
    const seizures = delta(before, after, results, (k) => /sip_code="(2\d\d|480|486|600|603)"/.test(k));
    // what the real calls produced: two answered, one busy (486 counts as a seizure, RFC 6076 §4.7)
    expect([answered, concluded, seizures]).toEqual([2, 3, 3]);

    // Every series the rules read, replayed as counters growing by the real calls' delta each step.
    const families = ['gateway_call_setup_results_total', 'gateway_call_attempts_total'];
    const inputSeries = [...after]
      .filter(([k]) => families.some((f) => k.startsWith(`${f}{`)))
      .map(([series, v]) => {
        const d = v - (before.get(series) ?? 0);
        return { series, values: `${before.get(series) ?? 0}+${d}x${STEPS}` };
      });
    const at = `${STEPS * STEP_S}s`;
    const outgoing = { direction: 'outgoing' };
    const testFile = {
      rule_files: [RULES],
      evaluation_interval: '30s',
      tests: [
        {
          interval: `${STEP_S}s`,
          input_series: inputSeries,
          promql_expr_test: [
            // ASR (ITU-T E.411): answered / concluded
            { expr: 'gateway:asr:ratio5m', eval_time: at, exp_samples: [{ labels: `gateway:asr:ratio5m{direction="outgoing"}`, value: answered / concluded }] },
            // SER (RFC 6076 §4.6): 2xx / (all − 3xx)
            { expr: 'gateway:ser:ratio5m', eval_time: at, exp_samples: [{ labels: `gateway:ser:ratio5m{direction="outgoing"}`, value: answered / concluded }] },
            // SEER (RFC 6076 §4.7): (2xx + 480/486/600/603) / (all − 3xx)
            { expr: 'gateway:seer:ratio5m', eval_time: at, exp_samples: [{ labels: `gateway:seer:ratio5m{direction="outgoing"}`, value: seizures / concluded }] },
          ],
          alert_rule_test: [
            // SER 2/3 < 90 % with 0.3 setups/s for more than 10 minutes
            {
              eval_time: at,
              alertname: 'GatewaySetupSuccessLow',
              exp_alerts: [
                {
                  exp_labels: { severity: 'page', ...outgoing },
                  exp_annotations: {
                    // humanizePercentage: four significant digits
                    summary: `SER ${Number(((answered / concluded) * 100).toPrecision(4))}% (outgoing) over 5 min`,
                    description: 'Fewer than 90 % of call setups succeed. Check the dashboard failures table (SIP codes) and the P-CSCF.',
                  },
                },
              ],
            },
            // and only that alert: the store had no errors
            { eval_time: at, alertname: 'GatewayStoreErrors', exp_alerts: [] },
          ],
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'promtool-'));
    const file = join(dir, 'rules.test.yml');
    writeFileSync(file, stringify(testFile));
    // promtool exits non-zero when an expectation fails; its report is on stdout/stderr either way
    const res = await run('promtool', ['test', 'rules', file]).catch((err: { stdout?: string; stderr?: string; message?: string }) => ({
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? err.message ?? 'promtool failed',
      failed: true,
    }));
    expect({ failed: 'failed' in res, out: `${res.stdout}${res.stderr}` }).toEqual({ failed: false, out: expect.stringContaining('SUCCESS') });
  });
});

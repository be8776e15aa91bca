import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createTestIdp, TestIdp } from '../support/auth';
import { freePort, Lab, startLab } from '../support/lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';

const ALICE = '+17085852753';
const ADMIN_TOKEN = 'e2e-dashboard-admin-0c7e9a8b4c3d';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'artifacts');
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const SCOPES = 'webrtc-registration:sessions:create webrtc-call-handling:sessions:create webrtc-call-handling:sessions:read webrtc-call-handling:sessions:delete';
const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

/** Real calls through the lab, then what the network team sees: /metrics and the dashboard in Chromium. */
describe('call-setup monitoring after real calls', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let base: string;

  beforeAll(async () => {
    lab = await startLab({ redis: false, ringMs: 150 });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp, { ADMIN_TOKEN });
    const port = await freePort('tcp');
    await gw.app.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;

    const token = await idp.token({ phone_number: ALICE, scope: SCOPES });
    const reg = await gw.request('POST', '/webrtc-registration/v0.4/sessions', { token, body: { deviceId: randomUUID() } });
    const registrationId = (reg.body as { registrationId: string }).registrationId;
    const call = async (to: string) =>
      (
        (await gw.request('POST', CALLS, { token, headers: { registrationid: registrationId }, body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${to}`, offer: { sdp: SDP } } }))
          .body as { mediaSessionId: string }
      ).mediaSessionId;
    const status = async (id: string) => ((await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status: string }).status;
    const answered = await call(lab.numbers.answer);
    const busy = await call(lab.numbers.busy);
    await eventually(async () => (await status(answered)) === 'Connected' && (await status(busy)) === 'Busy', 10_000, 'calls settled');
    expect((await gw.request('DELETE', `${CALLS}/${answered}`, { token })).status).toBe(204);
  });
  afterAll(async () => {
    await gw?.close();
    await lab?.stop();
  });

  it('counts the calls, their setup time and their outcomes in /metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/gateway_call_attempts_total\{direction="outgoing"\} 2/);
    expect(text).toMatch(/gateway_call_setup_duration_seconds_count\{direction="outgoing"\} 1/);
    expect(text).toMatch(/gateway_call_post_dial_delay_seconds_count\{direction="outgoing"\} 1/);
    expect(text).toMatch(/gateway_call_outcomes_total\{direction="outgoing",status="Busy",sip_code="486"\} 1/);
    expect(text).toMatch(/gateway_call_outcomes_total\{direction="outgoing",status="Terminated",sip_code="200"\} 1/);
    expect(text).toMatch(/gateway_sip_messages_total\{direction="out",method="INVITE",kind="request",code="none"\} [1-9]/);
    expect(text).toMatch(/gateway_sip_messages_total\{direction="in",method="INVITE",kind="response",code="486"\} 1/);
    expect(text).toMatch(/gateway_http_request_duration_seconds_count\{operation="POST \/webrtc-call-handling\/v0.4\/sessions",status_code="201"\} 2/);
    expect(text).toMatch(/gateway_store_operation_duration_seconds_count\{store="session",operation="create"\} 2/);
    expect(text).not.toMatch(/\+1708/);
  });

  it('shows those calls on the live dashboard in a real browser', async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${base}/dashboard`);
      await page.fill('#token', ADMIN_TOKEN);
      await page.click('button[type=submit]');
      await page.waitForSelector('#status.ok', { timeout: 10000 });
      await page.waitForFunction("document.querySelectorAll('#failures tbody tr').length > 0", undefined, { timeout: 10000 });
      const failure = await page.textContent('#failures tbody tr');
      expect(failure).toContain('486');
      expect(failure).toContain('Busy');
      expect(await page.textContent('#k-setup')).toMatch(/\d+ ms|\d+\.\d+ s/);
      expect(await page.locator('#chart-rate canvas').count()).toBeGreaterThan(0);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
      expect(page.url()).not.toContain(ADMIN_TOKEN);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

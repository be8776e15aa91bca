import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, Browser, Page } from 'playwright-core';
import { DemoLab, startDemoLab } from '../support/demo-lab';
import { LAB_PHONE } from '../support/media-lab';

/**
 * Real WebRTC calls in headless Chromium, through the browser demo (examples/webrtc-demo), the
 * gateway's CAMARA APIs, Kamailio and, towards the SIP phone (baresip), rtpengine.
 * Chromium's fake microphone sends a beep; baresip answers and sends a 440 Hz tone.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'artifacts');
const ALICE = '+17085852753';
const BOB = '+17085854000';
/** bounded waits for a busy 2-core machine: signalling and ICE/DTLS setup */
const SETUP_MS = 20_000;

let demoLab: DemoLab | undefined;

/** A failed wait names what it waited for and carries the lab's last log lines (CI keeps nothing else). */
function failure(what: string, cause: unknown, pageLog: string[] = []): Error {
  const parts = [what, ...(pageLog.length ? ['page log:', ...pageLog] : []), demoLab?.diagnostics(60) ?? ''];
  return new Error(parts.join('\n'), { cause });
}

function lab(): DemoLab {
  if (!demoLab) throw new Error('the demo lab did not start');
  return demoLab;
}

interface MediaFigures {
  packetsReceived: number;
  packetsSent: number;
}

/** The page's live getStats figures (window.demo.inbound() of examples/webrtc-demo/public/app.js). */
async function received(page: Page): Promise<MediaFigures> {
  const st = await page.evaluate<MediaFigures | null>('window.demo.inbound()');
  return st ?? { packetsReceived: 0, packetsSent: 0 };
}

/** Polls `probe` (every 100 ms) until it returns a number, or throws after timeoutMs. */
async function pollUntil(what: string, probe: () => Promise<number | false>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== false) return v;
    if (Date.now() > deadline) throw failure(`timed out after ${timeoutMs} ms waiting for ${what}`, undefined);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves with packetsReceived once it exceeds `n` (getStats of the page), or throws after timeoutMs. */
function receivedPast(page: Page, n: number, timeoutMs: number): Promise<number> {
  return pollUntil(`inbound-rtp packetsReceived > ${n}`, async () => ((await received(page)).packetsReceived > n ? (await received(page)).packetsReceived : false), timeoutMs);
}

/** Resolves with packetsReceived once it has not moved for `quietMs` (media stopped), or throws after timeoutMs. */
function inboundStalled(page: Page, quietMs: number, timeoutMs: number): Promise<number> {
  let last = -1;
  let since = Date.now();
  return pollUntil(
    `inbound-rtp packetsReceived unchanged for ${quietMs} ms`,
    async () => {
      const n = (await received(page)).packetsReceived;
      if (n !== last) {
        last = n;
        since = Date.now();
      }
      return Date.now() - since >= quietMs ? n : false;
    },
    timeoutMs,
  );
}

async function pageLog(page: Page): Promise<string[]> {
  return page.evaluate<string[]>('window.demo.log').catch(() => []);
}

/** Waits for the page's session status; on timeout the error carries the page's event log. */
async function status(page: Page, s: string, timeoutMs = SETUP_MS): Promise<void> {
  try {
    await page.waitForSelector(`#status[data-status="${s}"]`, { timeout: timeoutMs });
  } catch (e) {
    throw failure(e instanceof Error ? e.message : String(e), e, await pageLog(page));
  }
}

describe('WebRTC media through the gateway (headless Chromium, browser demo)', () => {
  let browser: Browser;
  const errors: string[] = [];

  async function phoneFor(number: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (e) => errors.push(`${number}: ${e.message}`));
    await page.goto(`${lab().demo.url}?candidates=loopback&number=${encodeURIComponent(number)}`);
    await page.waitForSelector('#number option', { state: 'attached', timeout: 10_000 });
    await page.click('#register');
    await page.waitForSelector('#registration[data-state="active"]', { timeout: SETUP_MS }).catch(async (e: unknown) => {
      throw failure(`registration of ${number} not active within ${SETUP_MS} ms`, e, await pageLog(page));
    });
    return page;
  }

  async function dial(page: Page, to: string): Promise<void> {
    await page.fill('#callee', to);
    await page.click('#call');
  }

  beforeAll(async () => {
    demoLab = await startDemoLab({ phone: true, phoneSipTrace: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        '--allow-loopback-in-peer-connection',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await demoLab?.stop();
  });

  it('browser A calls browser B: both Connected, media both ways, hang-up ends both', async () => {
    const a = await phoneFor(ALICE);
    const b = await phoneFor(BOB);
    try {
      await dial(a, BOB);
      await b.waitForSelector('#incoming:not([hidden])', { timeout: SETUP_MS });
      expect(await b.textContent('#caller')).toBe(`tel:${ALICE}`);
      await status(a, 'Ringing');
      await b.click('#answer');
      await Promise.all([status(a, 'Connected'), status(b, 'Connected')]);
      // 100 packets = 2 s of 20 ms audio frames: each side must get them within 5 s of Connected
      const [ra, rb] = await Promise.all([receivedPast(a, 100, 5000), receivedPast(b, 100, 5000)]);
      expect(ra).toBeGreaterThan(100);
      expect(rb).toBeGreaterThan(100);
      mkdirSync(ARTIFACTS, { recursive: true });
      await a.screenshot({ path: join(ARTIFACTS, 'webrtc-demo-call.png'), fullPage: true });

      await a.click('#hangup');
      await Promise.all([status(a, 'Terminated'), status(b, 'Terminated')]);
      expect(errors).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  async function callPhone(a: Page): Promise<void> {
    await dial(a, LAB_PHONE.user);
    await status(a, 'Connected');
    await receivedPast(a, 100, SETUP_MS);
  }

  it('a browser calls the SIP phone through rtpengine: audio packets flow both ways', async () => {
    const a = await phoneFor(ALICE);
    try {
      // phone -> browser: the phone's tone, SRTP from rtpengine; browser -> phone: the fake microphone
      await callPhone(a);
      await pollUntil('outbound-rtp packetsSent > 100', async () => (await received(a)).packetsSent > 100 && (await received(a)).packetsSent, 5000);
      // rtpengine got RTP from both parties: the browser (ICE, DTLS-SRTP) and the phone (plain RTP/AVP)
      const legIn = async (protocol: string): Promise<number> => (await lab().rtpengine.legs()).find((l) => l.protocol === protocol)?.packetsIn ?? 0;
      expect(await pollUntil('rtpengine: > 100 packets from the browser', async () => (await legIn('UDP/TLS/RTP/SAVPF')) > 100 && legIn('UDP/TLS/RTP/SAVPF'), 5000)).toBeGreaterThan(100);
      expect(await pollUntil('rtpengine: > 100 packets from the phone', async () => (await legIn('RTP/AVP')) > 100 && legIn('RTP/AVP'), 5000)).toBeGreaterThan(100);
      expect(lab().phone?.receivedRtp()).toBe(true);

      await a.click('#hangup');
      await status(a, 'Terminated');
      expect(errors).toEqual([]);
    } finally {
      await a.close();
    }
  });

  it('the SIP phone calls a browser: rtpengine offers ICE/DTLS-SRTP, the page answers, audio flows both ways', async () => {
    const a = await phoneFor(ALICE);
    try {
      await lab().phone?.command('dial', `sip:${ALICE}@${lab().lab.domain}`);
      await a.waitForSelector('#incoming:not([hidden])', { timeout: SETUP_MS });
      expect(await a.textContent('#caller')).toContain(LAB_PHONE.user);
      await a.click('#answer');
      await status(a, 'Connected');
      await receivedPast(a, 100, SETUP_MS);
      const legIn = async (protocol: string): Promise<number> => (await lab().rtpengine.legs()).find((l) => l.protocol === protocol)?.packetsIn ?? 0;
      expect(await pollUntil('rtpengine: > 100 packets from the browser', async () => (await legIn('UDP/TLS/RTP/SAVPF')) > 100 && legIn('UDP/TLS/RTP/SAVPF'), 5000)).toBeGreaterThan(100);

      await a.click('#hangup');
      await status(a, 'Terminated');
      expect(errors).toEqual([]);
    } finally {
      await a.close();
    }
  });

  it('hold stops inbound media, resume restores it (browser to SIP phone)', async () => {
    const a = await phoneFor(ALICE);
    try {
      await callPhone(a);
      await a.click('#hold');
      await status(a, 'Hold');
      // the phone answered the hold re-INVITE with recvonly and went quiet; so did the page
      const stalled = await inboundStalled(a, 1500, 10_000);
      await a.click('#resume');
      await status(a, 'Resume');
      expect(await receivedPast(a, stalled + 50, 10_000)).toBeGreaterThan(stalled + 50);

      await a.click('#hangup');
      await status(a, 'Terminated');
      expect(errors).toEqual([]);
    } finally {
      await a.close();
    }
  });
});

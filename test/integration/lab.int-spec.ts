/**
 * Tests of the test lab itself (test/support/lab.ts): if these fail, every other
 * integration/e2e test will too.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { jwtVerify, createLocalJWKSet, errors as joseErrors } from 'jose';
import { createTestIdp } from '../support/auth';
import {
  LAB_NUMBERS,
  LAB_SUBSCRIBERS,
  SCENARIOS_DIR,
  freePort,
  isPortFree,
  parseUlDump,
  runSippUac,
  sippRegister,
  sipOptionsPing,
  startKamailio,
  startLab,
  startRedis,
  startSippUas,
  type KamailioInstance,
  type Lab,
} from '../support/lab';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('freePort', () => {
  it('returns distinct ports that are free for UDP and TCP', async () => {
    const ports = await Promise.all([freePort('both'), freePort('both'), freePort('udp'), freePort('tcp')]);
    expect(new Set(ports).size).toBe(4);
    for (const p of ports.slice(0, 2)) expect(await isPortFree(p, 'both')).toBe(true);
  });
});

describe('SIPp scenarios', () => {
  it.each(readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith('.xml')))('%s loads', async (file) => {
    // -m 0: load the scenario, make no call, exit 0
    const port = await freePort('udp');
    expect(() =>
      execFileSync('sipp', ['127.0.0.1:9', '-sf', `${SCENARIOS_DIR}/${file}`, '-i', '127.0.0.1', '-p', String(port), '-m', '0', '-nostdin', '-timeout', '2s'], {
        stdio: 'pipe',
        timeout: 10000,
      }),
    ).not.toThrow();
  });
});

describe('Redis', () => {
  it('starts on a free port, answers, and stop() kills it', async () => {
    const redis = await startRedis();
    const pid = redis.pid;
    expect(pid).toBeDefined();
    const c = redis.client();
    await c.set('lab:k', 'v');
    expect(await c.get('lab:k')).toBe('v');
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    await redis.stop();
    expect(alive(pid as number)).toBe(false);
    expect(await isPortFree(redis.port, 'tcp')).toBe(true);
  });
});

describe('SIPp UAC -> UAS directly', () => {
  it('answered call exits 0, busy exits non-zero, CANCEL while ringing exits 0', async () => {
    const answer = await startSippUas('uas-answer-200', { ringMs: 200 });
    const busy = await startSippUas('uas-busy-486');
    const ring = await startSippUas('uas-ring-no-answer');
    try {
      const direct = { domain: '127.0.0.1', callee: '+15550009999', timeoutS: 10 };
      const ok = await runSippUac({ ...direct, scenario: 'uac-call-answered', proxyPort: answer.port, holdMs: 50 });
      expect({ code: ok.exitCode, out: ok.output }).toMatchObject({ code: 0 });
      expect(ok.messages).toMatch(/SIP\/2\.0 200 OK/);
      expect(await answer.messages()).toMatch(/^BYE sip:/m);
      const b = await runSippUac({ ...direct, scenario: 'uac-call-answered', proxyPort: busy.port });
      expect(b.exitCode).not.toBe(0);
      expect(b.messages).toMatch(/SIP\/2\.0 486/);
      const c1 = await runSippUac({ ...direct, scenario: 'uac-call-then-cancel', proxyPort: ring.port });
      expect({ code: c1.exitCode, out: c1.output }).toMatchObject({ code: 0 });
      // the answering UAS tolerates a CANCEL during its ring time
      const c2 = await runSippUac({ ...direct, scenario: 'uac-call-then-cancel', proxyPort: answer.port });
      expect({ code: c2.exitCode, out: c2.output }).toMatchObject({ code: 0 });
      expect(c2.messages).toMatch(/SIP\/2\.0 487/);
    } finally {
      await Promise.all([answer.stop(), busy.stop(), ring.stop()]);
    }
  });
});

describe('Kamailio', () => {
  it('two instances run side by side on free ports; stop() kills them; start() again works', async () => {
    const [k1, k2] = await Promise.all([startKamailio(), startKamailio()]);
    try {
      expect(k1.port).not.toBe(k2.port);
      expect(k1.outboundProxy).toBe(`sip:127.0.0.1:${k1.port};transport=udp`);
      expect(await k1.kamcmd('core.uptime')).toMatch(/uptime/);
      expect(await sipOptionsPing('127.0.0.1', k2.port)).toMatch(/^SIP\/2\.0 200/);
      const pid = k1.pid as number;
      await k1.stop();
      expect(k1.running).toBe(false);
      expect(alive(pid)).toBe(false);
      expect(await sipOptionsPing('127.0.0.1', k1.port, 300)).toBeNull();
      await expect(k1.kamcmd('core.uptime')).rejects.toThrow();
      // "Kamailio is back": same ports
      await k1.start();
      expect(await sipOptionsPing('127.0.0.1', k1.port)).toMatch(/^SIP\/2\.0 200/);
      // crash
      await k2.kill();
      expect(k2.running).toBe(false);
    } finally {
      await Promise.all([k1.stop(), k2.stop()]);
    }
  });

  it('reports a clear error with the log when it cannot start', async () => {
    const port = await freePort('both');
    const k = await startKamailio({ sipPort: port });
    try {
      await expect(startKamailio({ sipPort: port, startTimeoutMs: 5000 })).rejects.toThrow(/kamailio:\d+ exited[\s\S]*last log lines/);
    } finally {
      await k.stop();
    }
  });

  it('parses ul.dump', () => {
    const text = [
      '{',
      '\tDomains: {',
      '\t\tDomain: {',
      '\t\t\tDomain: location',
      '\t\t\tAoRs: {',
      '\t\t\t\tInfo: {',
      '\t\t\t\t\tAoR: +17085852753',
      '\t\t\t\t\tContacts: {',
      '\t\t\t\t\t\tContact: {',
      '\t\t\t\t\t\t\tAddress: sip:+17085852753@127.0.0.1:25101;transport=UDP',
      '\t\t\t\t\t\t\tExpires: 600',
      '\t\t\t\t\t\t\tCall-ID: 1-6267@127.0.0.1',
      '\t\t\t\t\t\t\tUser-Agent: n/a',
      '\t\t\t\t\t\t\tReceived: [not set]',
      '\t\t\t\t\t\t\tSocket: udp:127.0.0.1:25060',
      '\t\t\t\t\t\t}',
      '\t\t\t\t\t}',
      '\t\t\t\t}',
      '\t\t\t}',
      '\t\t}',
      '\t}',
      '}',
    ].join('\n');
    expect(parseUlDump(text)).toEqual([{ aor: '+17085852753', contact: 'sip:+17085852753@127.0.0.1:25101;transport=UDP', expires: 600, callId: '1-6267@127.0.0.1', socket: 'udp:127.0.0.1:25060' }]);
  });
});

describe('the whole lab', () => {
  let lab: Lab;
  let kam: KamailioInstance;
  beforeAll(async () => {
    lab = await startLab({ ringMs: 50 });
    kam = lab.kamailio;
  }, 60000);
  afterAll(async () => {
    const pids = [lab?.kamailio.pid, lab?.redis?.pid, ...Object.values(lab?.uas ?? {}).map((u) => u.pid)];
    await lab?.stop();
    for (const pid of pids) if (pid !== undefined) expect(alive(pid)).toBe(false);
  });

  const call = (scenario: string, callee: string, extra: { holdMs?: number; caller?: string } = {}) => runSippUac({ scenario, proxyPort: kam.port, callee, timeoutS: 15, ...extra });

  it('Redis answers', async () => {
    expect(await lab.redis?.client().ping()).toBe('PONG');
  });

  it('routes an ordinary number to the answering UAS (exit 0)', async () => {
    const r = await call('uac-call-answered', LAB_NUMBERS.answer, { holdMs: 100 });
    expect({ code: r.exitCode, out: r.output }).toMatchObject({ code: 0 });
    expect(r.messages).toMatch(/Record-Route: <sip:127\.0\.0\.1/);
  });

  it('busy number fails with 486 (non-zero exit)', async () => {
    const r = await call('uac-call-answered', LAB_NUMBERS.busy);
    expect(r.exitCode).not.toBe(0);
    expect(r.messages).toMatch(/SIP\/2\.0 486 Busy Here/);
  });

  it('+1555480... gets 480 from Kamailio', async () => {
    const r = await call('uac-call-answered', LAB_NUMBERS.unavailable);
    expect(r.exitCode).not.toBe(0);
    expect(r.messages).toMatch(/SIP\/2\.0 480/);
  });

  it('no-answer number rings; the caller CANCELs (200 + 487)', async () => {
    const r = await call('uac-call-then-cancel', LAB_NUMBERS.noAnswer);
    expect({ code: r.exitCode, out: r.output }).toMatchObject({ code: 0 });
    await lab.uas.noAnswer.waitForMessage(/^CANCEL sip:/m);
  });

  it('answer-then-bye number hangs up by itself through the Record-Route', async () => {
    const r = await call('uac-call-remote-bye', LAB_NUMBERS.remoteBye);
    expect({ code: r.exitCode, out: r.output }).toMatchObject({ code: 0 });
    expect(r.messages).toMatch(/^BYE sip:/m);
    expect(await lab.uas.bye.messages()).toMatch(/^Route: <sip:127\.0\.0\.1:\d+;lr/m);
  });

  it('urn:service:sos[.*] goes to the traced PSAP', async () => {
    const sos = await call('uac-call-emergency', 'sos.police');
    expect({ code: sos.exitCode, out: sos.output }).toMatchObject({ code: 0 });
    await lab.uas.psap.waitForMessage(/^INVITE urn:service:sos\.police SIP\/2\.0/m);
    expect(await lab.uas.answer.messages()).not.toMatch(/urn:service:sos/);
  });

  it('REGISTER with digest creates a binding visible in locations(); wrong password does not', async () => {
    const user = '+17085854000';
    const password = LAB_SUBSCRIBERS[user] as string;
    expect(await kam.locations(user)).toEqual([]);
    const bad = await sippRegister({ proxyPort: kam.port, user, password: 'wrong' });
    expect(bad.exitCode).not.toBe(0);
    // the Contact carries SIPp's local port: use the same one to de-register it later
    const localPort = await freePort('udp');
    const reg = await sippRegister({ proxyPort: kam.port, user, password, expires: 300, localPort });
    expect({ code: reg.exitCode, out: reg.output }).toMatchObject({ code: 0 });
    const locs = await kam.locations(`sip:${user}@ims.lab`);
    expect(locs).toHaveLength(1);
    expect(locs[0]?.contact).toMatch(new RegExp(`^sip:\\${user}@127\\.0\\.0\\.1:\\d+`));
    expect(locs[0]?.expires).toBeGreaterThan(250);
    expect(locs[0]?.expires).toBeLessThanOrEqual(300);
    const unreg = await sippRegister({ proxyPort: kam.port, user, password, expires: 0, localPort });
    expect(unreg.exitCode).toBe(0);
    expect(await kam.locations(user)).toEqual([]);
    // not registered -> 480
    const r = await call('uac-call-answered', user);
    expect(r.messages).toMatch(/SIP\/2\.0 480/);
  });

  it('load-test subscribers authenticate with "loadtest"', async () => {
    const reg = await sippRegister({ proxyPort: kam.port, user: '+17086000042', password: 'loadtest', expires: 60 });
    expect(reg.exitCode).toBe(0);
    expect(await kam.locations('+17086000042')).toHaveLength(1);
  });
});

describe('test IdP', () => {
  it('issues ES256 and RS256 tokens verifiable with the JWKS file, and bad tokens that are not', async () => {
    const idp = await createTestIdp();
    expect(idp.jwksUrl).toMatch(/^file:\/\//);
    const jwks = createLocalJWKSet(idp.jwks);
    const verify = (t: string) => jwtVerify(t, jwks, { issuer: idp.issuer, audience: idp.audience, algorithms: ['ES256', 'RS256'] });
    const es = await verify(await idp.token({ phone_number: '+17085852753', scope: 'a b' }));
    expect(es.payload).toMatchObject({ phone_number: '+17085852753', sub: '+17085852753', scope: 'a b' });
    expect(es.protectedHeader.alg).toBe('ES256');
    expect((await verify(await idp.token({ alg: 'RS256', sub: 'x' }))).protectedHeader.alg).toBe('RS256');
    await expect(verify(await idp.token({ expiresIn: -60 }))).rejects.toBeInstanceOf(joseErrors.JWTExpired);
    await expect(verify(await idp.token({ aud: 'someone-else' }))).rejects.toThrow();
    await expect(verify(await idp.tokenSignedByOtherKey({ sub: 'x' }))).rejects.toBeInstanceOf(joseErrors.JWSSignatureVerificationFailed);
    await expect(verify(await idp.hs256Token({ sub: 'x' }))).rejects.toThrow();
    await expect(verify(idp.unsignedToken({ sub: 'x' }))).rejects.toThrow();
  });
});

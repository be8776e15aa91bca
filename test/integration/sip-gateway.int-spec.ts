/**
 * SipUserAgent against a real Kamailio ("IMS core") and SIPp far ends (test/support/lab.ts).
 */
import pino from 'pino';
import { loadConfig } from '../../src/config/app-config';
import { Secret } from '../../src/config/secret';
import { SipUserAgent } from '../../src/sip/sip-user-agent';
import { CallSignal, DialogState, IncomingCall, RemoteDialogRequest, SipFailure } from '../../src/sip/sip-gateway';
import { SipTimers } from '../../src/sip/sip-timers';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, KamailioInstance, LAB_NUMBERS, LAB_SUBSCRIBERS, runSippUac, scenarioPath, SippUas, startKamailio, startSippUas } from '../support/lab';

const USER = '+17085852753';
const USER2 = '+17085854000';
const creds = (user: string, password = LAB_SUBSCRIBERS[user] ?? ''): { username: string; password: Secret } => ({ username: user, password: new Secret(password) });
const DEVICE = '0f8fad5b-d9cb-469f-a165-70867728950e';
const logger = pino({ level: process.env.SIP_TEST_LOG ?? 'silent' });

const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');

interface TestLab {
  kamailio: KamailioInstance;
  uas: { answer: SippUas; busy: SippUas; noAnswer: SippUas };
  numbers: typeof LAB_NUMBERS;
}
let lab: TestLab;
const started: Array<{ stop(): Promise<void> }> = [];

/**
 * test/scenarios/uas-ring-no-answer.xml answers the INVITE with 487 using `[last_Via:]` AFTER the
 * CANCEL arrived, i.e. the CANCEL's Via (Kamailio's only): Kamailio then relays a 487 with NO Via,
 * which a conformant UA must drop (RFC 3261 §8.1.3.3 / §18.1.2). Until that scenario is fixed, use a
 * copy that keeps the INVITE's Via.
 */
function fixedNoAnswerScenario(): string {
  const xml = readFileSync(scenarioPath('uas-ring-no-answer'), 'utf8')
    .replace(
      '<recv request="INVITE" crlf="true"/>',
      '<recv request="INVITE" crlf="true"><action><ereg regexp="Via:[^[:cntrl:]]*([[:cntrl:]]+Via:[^[:cntrl:]]*)*" search_in="msg" check_it="true" assign_to="invvia"/></action></recv>',
    )
    .replace(/(SIP\/2\.0 487 Request Terminated\s*\n\s*)\[last_Via:\]/, '$1[$invvia]');
  const path = join(mkdtempSync(join(tmpdir(), 'sip-int-')), 'uas-ring-no-answer-fixed.xml');
  writeFileSync(path, xml);
  return path;
}
const gateways: SipUserAgent[] = [];

async function gateway(opts: { transport?: 'udp' | 'tcp'; proxy?: string; timers?: Partial<SipTimers> } = {}): Promise<SipUserAgent> {
  const port = await freePort(opts.transport === 'tcp' ? 'tcp' : 'udp');
  const config = loadConfig({
    SIP_OUTBOUND_PROXY: opts.proxy ?? (opts.transport === 'tcp' ? lab.kamailio.outboundProxyTcp : lab.kamailio.outboundProxy),
    SIP_DOMAIN: 'ims.lab',
    SIP_LISTEN_ADDRESS: '127.0.0.1',
    SIP_LISTEN_PORT: String(port),
    SIP_TRANSPORT: opts.transport ?? 'udp',
  });
  const gw = new SipUserAgent(config, logger, opts.timers);
  gateways.push(gw);
  await gw.start();
  return gw;
}

/** Collects the signals of one outgoing call; resolves at the first final one. */
function callSignals(): { signals: CallSignal[]; onSignal: (s: CallSignal) => void; final: Promise<CallSignal>; firstProvisional: Promise<CallSignal> } {
  const signals: CallSignal[] = [];
  let resolveFinal!: (s: CallSignal) => void;
  let resolveProv!: (s: CallSignal) => void;
  const final = new Promise<CallSignal>((r) => (resolveFinal = r));
  const firstProvisional = new Promise<CallSignal>((r) => (resolveProv = r));
  return {
    signals,
    final,
    firstProvisional,
    onSignal: (s) => {
      signals.push(s);
      if (s.kind === 'provisional' && s.code > 100) resolveProv(s);
      if (s.kind !== 'provisional') resolveFinal(s);
    },
  };
}

function outgoing(to: string, content = SDP, contentType = 'application/sdp') {
  return {
    contactUser: 'reg-out',
    from: { uri: `sip:${USER}@ims.lab`, displayName: 'Ann "Q" \\ Tester' },
    to: { uri: `sip:${to}@ims.lab` },
    requestUri: `sip:${to}@ims.lab`,
    body: { contentType, content },
    credentials: creds(USER),
  };
}

beforeAll(async () => {
  const answer = await startSippUas('uas-answer-200', { ringMs: 200, name: 'answer' });
  started.push(answer);
  const busy = await startSippUas('uas-busy-486', { name: 'busy', trace: false });
  started.push(busy);
  const noAnswer = await startSippUas(fixedNoAnswerScenario(), { name: 'noanswer' });
  started.push(noAnswer);
  const kamailio = await startKamailio({ uasPort: answer.port, busyPort: busy.port, noAnswerPort: noAnswer.port, psapPort: answer.port, byePort: answer.port });
  started.push(kamailio);
  lab = { kamailio, uas: { answer, busy, noAnswer }, numbers: LAB_NUMBERS };
}, 60_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.allSettled(started.map((p) => p.stop()));
});

describe('REGISTER', () => {
  it('answers the 401 challenge, the binding shows in ul.dump, refresh keeps Call-ID with CSeq+1, unregister removes it', async () => {
    const gw = await gateway();
    const target = { registrationId: 'reg-a', phoneNumber: USER, deviceId: DEVICE, expiresS: 300, credentials: creds(USER) };
    const grant = await gw.register(target);
    // CSeq 1 was challenged (401), CSeq 2 accepted
    expect(grant.binding.cseq).toBe(2);
    expect(grant.grantedExpiresS).toBeGreaterThan(0);
    expect(grant.grantedExpiresS).toBeLessThanOrEqual(300);
    expect(grant.binding.contact).toMatch(/^sip:reg-a@127\.0\.0\.1:\d+$/);
    let locs = await lab.kamailio.locations(USER);
    expect(locs.map((l) => l.contact)).toContainEqual(expect.stringContaining(grant.binding.contact));
    expect(locs.find((l) => l.contact.includes(grant.binding.contact))?.callId).toBe(grant.binding.callId);

    const refreshed = await gw.register({ ...target, binding: grant.binding });
    expect(refreshed.binding.callId).toBe(grant.binding.callId);
    expect(refreshed.binding.cseq).toBeGreaterThan(grant.binding.cseq);
    locs = await lab.kamailio.locations(USER);
    expect(locs.filter((l) => l.contact.includes('reg-a@'))).toHaveLength(1);

    await gw.unregister({ ...target, binding: refreshed.binding });
    locs = await lab.kamailio.locations(USER);
    expect(locs.filter((l) => l.contact.includes('reg-a@'))).toHaveLength(0);
  });

  it("a second instance taking over drops the first one's binding in the same REGISTER", async () => {
    const a = await gateway();
    const b = await gateway();
    const target = { registrationId: 'reg-move', phoneNumber: USER2, deviceId: DEVICE, expiresS: 300, credentials: creds(USER2) };
    const first = await a.register(target);
    const second = await b.register({ ...target, binding: first.binding });
    expect(second.binding.callId).toBe(first.binding.callId);
    expect(second.binding.contact).not.toBe(first.binding.contact);
    const contacts = (await lab.kamailio.locations(USER2)).map((l) => l.contact);
    expect(contacts.some((c) => c.includes(second.binding.contact))).toBe(true);
    expect(contacts.some((c) => c.includes(first.binding.contact))).toBe(false);
    await b.unregister({ ...target, binding: second.binding });
  });

  it('wrong password -> SipFailure rejected (401/403)', async () => {
    const gw = await gateway();
    const err = await gw.register({ registrationId: 'reg-bad', phoneNumber: USER, deviceId: DEVICE, expiresS: 300, credentials: creds(USER, 'wrong') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SipFailure);
    expect((err as SipFailure).kind).toBe('rejected');
    expect([401, 403]).toContain((err as SipFailure).status);
  });

  it('unknown subscriber -> SipFailure rejected 403', async () => {
    const gw = await gateway();
    const err = await gw.register({ registrationId: 'reg-x', phoneNumber: '+19999999999', deviceId: DEVICE, expiresS: 300, credentials: creds('+19999999999', 'x') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'rejected', status: 403 });
  });

  it('no IMS core listening: UDP -> timeout (injectable Timer F), TCP -> transport', async () => {
    const dead = await freePort('udp');
    const udp = await gateway({ proxy: `sip:127.0.0.1:${dead};transport=udp`, timers: { transactionTimeoutMs: 1500 } });
    const t0 = Date.now();
    const e1 = await udp.register({ registrationId: 'r', phoneNumber: USER, deviceId: DEVICE, expiresS: 60, credentials: creds(USER) }).catch((e: unknown) => e);
    expect(e1).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(5000);
    const deadTcp = await freePort('tcp');
    const tcp = await gateway({ transport: 'tcp', proxy: `sip:127.0.0.1:${deadTcp};transport=tcp`, timers: { transactionTimeoutMs: 1500 } });
    const e2 = await tcp.register({ registrationId: 'r', phoneNumber: USER, deviceId: DEVICE, expiresS: 60, credentials: creds(USER) }).catch((e: unknown) => e);
    expect(e2).toMatchObject({ kind: 'transport' });
    await expect(udp.ping()).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('ping: OPTIONS to the outbound proxy -> 200', async () => {
    const gw = await gateway();
    await expect(gw.ping()).resolves.toBe(200);
    expect(gw.isListening()).toBe(true);
  });
});

describe('outgoing calls', () => {
  it('answered after the 407 challenge: 180, 200 with SDP, ACK sent, hold by re-INVITE accepted and ACKed, BYE 200 from a SECOND instance', async () => {
    const gw = await gateway();
    const c = callSignals();
    const handle = await gw.invite(outgoing(lab.numbers.answer), c.onSignal);
    expect(handle.dialog.invite?.branch).toMatch(/^z9hG4bK[0-9a-f]{32}$/);
    const final = await c.final;
    expect(c.signals.some((s) => s.kind === 'provisional' && s.code === 180)).toBe(true);
    if (final.kind !== 'answered') throw new Error(`not answered: ${JSON.stringify(final)}`);
    expect(final.code).toBe(200);
    expect(final.sdp).toContain('m=audio');
    expect(final.dialog).toMatchObject({ role: 'uac', state: 'confirmed', callId: handle.callId });
    expect(final.dialog.localSeq).toBe(2); // the INVITE was re-sent with CSeq 2 after the 407
    expect(final.dialog.routeSet.length).toBeGreaterThan(0); // Kamailio record-routes
    await lab.uas.answer.waitForMessage(new RegExp(`ACK [^\\r\\n]+\\r?\\n(?:[^\\r\\n]+\\r?\\n)*?Call-I[Dd]: ${handle.callId}`), 5000);

    // re-INVITE putting the far end on hold (RFC 3264 §8.4): 200 with SDP, ACKed
    const held = await gw.modify(final.dialog, { kind: 'hold', localSdp: SDP }, creds(USER));
    if (held.outcome !== 'accepted') throw new Error(`hold not accepted: ${JSON.stringify(held)}`);
    expect(held.offer).toMatch(/a=sendonly/);
    expect(held.offer).toMatch(/^o=- 1 2 IN IP4/m); // §8: a new offer has a new o= version
    expect(held.answer).toContain('m=audio');
    expect(held.dialog.localSeq).toBe(3);
    await lab.uas.answer.waitForMessage(new RegExp(`ACK [^\\r\\n]+\\r?\\n(?:[^\\r\\n]+\\r?\\n)*?Call-I[Dd]: ${handle.callId}(?:\\r?\\n[^\\r\\n]+)*?\\r?\\nCSeq: 3 ACK`), 5000);

    // the dialog as JSON, used by another gateway instance (other port) for the BYE
    const stored = JSON.parse(JSON.stringify(held.dialog)) as DialogState;
    const other = await gateway();
    await other.hangUp(stored, creds(USER));
    await lab.uas.answer.waitForMessage(new RegExp(`BYE [^\\r\\n]+\\r?\\n(?:[^\\r\\n]+\\r?\\n)*?Call-I[Dd]: ${handle.callId}(?:\\r?\\n[^\\r\\n]+)*?\\r?\\nCSeq: 4 BYE`), 5000);
    // …and SIPp answered it 200 (§15.1.2)
    await lab.uas.answer.waitForMessage(new RegExp(`SIP/2\\.0 200 OK(?:\\r?\\n[^\\r\\n]+)*?\\r?\\nCall-I[Dd]: ${handle.callId}(?:\\r?\\n[^\\r\\n]+)*?\\r?\\nCSeq: 4 BYE`), 5000);
  });

  it('busy -> rejected 486', async () => {
    const gw = await gateway();
    const c = callSignals();
    await gw.invite(outgoing(lab.numbers.busy), c.onSignal);
    expect(await c.final).toMatchObject({ kind: 'rejected', code: 486 });
  });

  it('CANCEL while ringing -> 487', async () => {
    const gw = await gateway();
    const c = callSignals();
    const handle = await gw.invite(outgoing(lab.numbers.noAnswer), c.onSignal);
    const ringing = await c.firstProvisional;
    expect(ringing).toMatchObject({ kind: 'provisional', code: 180 });
    await gw.hangUp(handle.dialog); // early + INVITE data: CANCEL; stale (pre-407) data: the owning instance uses the current INVITE's
    expect(await c.final).toMatchObject({ kind: 'rejected', code: 487 });
  });

  it('CANCEL sent by another instance from the stored dialog -> 487 on the owner', async () => {
    const gw = await gateway();
    const other = await gateway();
    const c = callSignals();
    await gw.invite(outgoing(lab.numbers.noAnswer), c.onSignal);
    const ringing = await c.firstProvisional;
    if (ringing.kind !== 'provisional' || !ringing.dialog) throw new Error('no early dialog');
    await other.hangUp(JSON.parse(JSON.stringify(ringing.dialog)) as DialogState);
    expect(await c.final).toMatchObject({ kind: 'rejected', code: 487 });
  });

  it('a UTF-8 multipart body (München) arrives with a byte-correct Content-Length', async () => {
    const gw = await gateway();
    const b = 'b0undary';
    const pidf =
      '<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:x@ims.lab"><tuple id="t"><status/><note>Marienplatz, München</note></tuple></presence>';
    const body = `--${b}\r\nContent-Type: application/sdp\r\n\r\n${SDP}\r\n--${b}\r\nContent-Type: application/pidf+xml\r\nContent-ID: <loc@gw.lab>\r\n\r\n${pidf}\r\n--${b}--\r\n`;
    const c = callSignals();
    const handle = await gw.invite({ ...outgoing(lab.numbers.answer, body, `multipart/mixed;boundary=${b}`), headers: { Geolocation: '<cid:loc@gw.lab>' } }, c.onSignal);
    const final = await c.final;
    expect(final.kind).toBe('answered');
    // SIPp's trace is read as latin1: the UTF-8 bytes of ü show as "Ã¼"
    const trace = await lab.uas.answer.waitForMessage('MÃ¼nchen', 5000);
    const block = trace.split(/\n(?=-{5,}|\S+ message (?:sent|received))/).find((m) => m.includes(handle.callId) && /INVITE sip:/.test(m) && m.includes('MÃ¼nchen'));
    expect(block).toBeDefined();
    const cl = /Content-Length:\s*(\d+)/i.exec(block ?? '');
    expect(Number(cl?.[1])).toBe(Buffer.byteLength(body, 'utf8'));
    if (final.kind === 'answered') await gw.hangUp(final.dialog, creds(USER));
  });

  it('refuses header injection before anything is sent', async () => {
    const gw = await gateway();
    await expect(gw.invite({ ...outgoing(lab.numbers.answer), from: { uri: `sip:${USER}@ims.lab`, displayName: 'x\r\nVia: evil' } }, () => undefined)).rejects.toThrow(/control character/);
    await expect(gw.invite({ ...outgoing(lab.numbers.answer), headers: { 'P-Asserted-Identity': '<sip:a@b>\r\nX: y' } }, () => undefined)).rejects.toThrow(/control character/);
  });
});

describe('incoming calls', () => {
  it.each(['udp', 'tcp'] as const)('SIPp -> Kamailio -> registered contact (%s): call.incoming, 180, 200 (retransmitted until ACK), BYE answered 200', async (transport) => {
    const gw = await gateway({ transport });
    const reg = { registrationId: `reg-in-${transport}`, phoneNumber: USER, deviceId: DEVICE, expiresS: 120, credentials: creds(USER) };
    const grant = await gw.register(reg);
    const incoming: IncomingCall[] = [];
    const confirmed: Array<{ callId: string; localTag: string }> = [];
    const dialogRequests: RemoteDialogRequest[] = [];
    gw.on('call.incoming', (call) => {
      incoming.push(call);
      gw.progress(call.key, { kind: 'ringing' });
      setTimeout(() => gw.answer(call.key, SDP), 100);
    });
    gw.on('call.confirmed', (c) => confirmed.push(c));
    gw.on('call.unconfirmed', () => {
      throw new Error('the ACK was not matched');
    });
    gw.on('dialog.request', (rq, reply) => {
      dialogRequests.push(rq);
      reply.accept();
    });
    const result = await runSippUac({ scenario: 'uac-call-answered', proxyPort: lab.kamailio.port, callee: USER, holdMs: 300, timeoutS: 15 });
    expect(result.exitCode).toBe(0);
    expect(incoming).toHaveLength(1);
    const call = incoming[0];
    expect(call?.contactUser).toBe(`reg-in-${transport}`);
    expect(call?.to.uri).toBe(`sip:${USER}@ims.lab`);
    expect(call?.sdp).toContain('m=audio');
    expect(call?.dialog).toMatchObject({ role: 'uas', state: 'early', remoteUri: expect.stringContaining('+15550001234') as unknown });
    expect(call?.dialog.routeSet.length).toBeGreaterThan(0);
    expect(confirmed).toEqual([{ callId: call?.dialog.callId, localTag: call?.dialog.localTag }]);
    expect(dialogRequests.map((r) => r.kind)).toEqual(['bye']);
    expect(dialogRequests[0]?.localTag).toBe(call?.dialog.localTag);
    await gw.unregister({ ...reg, binding: grant.binding });
  });

  it('the app declines -> 603 Decline', async () => {
    const gw = await gateway();
    const reg = { registrationId: 'reg-decline', phoneNumber: USER2, deviceId: DEVICE, expiresS: 120, credentials: creds(USER2) };
    const grant = await gw.register(reg);
    gw.on('call.incoming', (call) => gw.reject(call.key, 'declined'));
    const result = await runSippUac({ scenario: 'uac-call-answered', proxyPort: lab.kamailio.port, callee: USER2, timeoutS: 10 });
    expect(result.exitCode).not.toBe(0);
    expect(result.messages).toMatch(/SIP\/2\.0 603 Decline/);
    await gw.unregister({ ...reg, binding: grant.binding });
  });

  it('nobody claims the call -> 480', async () => {
    const gw = await gateway();
    const reg = { registrationId: 'reg-nolistener', phoneNumber: USER2, deviceId: DEVICE, expiresS: 120, credentials: creds(USER2) };
    const grant = await gw.register(reg);
    const result = await runSippUac({ scenario: 'uac-call-answered', proxyPort: lab.kamailio.port, callee: USER2, timeoutS: 10 });
    expect(result.exitCode).not.toBe(0);
    expect(result.messages).toMatch(/SIP\/2\.0 480/);
    await gw.unregister({ ...reg, binding: grant.binding });
  });
});

describe('lifecycle', () => {
  it('close() is idempotent and releases the port', async () => {
    const gw = await gateway();
    await gw.close();
    await gw.close();
    expect(gw.isListening()).toBe(false);
    await expect(gw.ping()).rejects.toMatchObject({ kind: 'transport' });
  });
});

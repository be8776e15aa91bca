/**
 * The SIP edge for several instances (issue 15, item 5): the lab's Kamailio fronts two gateway
 * processes with the dispatcher module. Each instance registers its own Contact; when the instance
 * holding a binding dies, an INVITE for it fails over to the other one, which serves the call from
 * the shared store; the dispatcher's OPTIONS pings mark the dead instance inactive and, once it is
 * back, active again.
 */
import { readFileSync } from 'node:fs';
import { createTestIdp, TestIdp } from '../support/auth';
import { API, AUDIO_OFFER, registerApp, RegisteredApp } from '../support/camara-app';
import { eventually, GatewayProcess, spawnGatewayProcess, labGatewayEnv } from '../support/gateway';
import { freePort, KamailioInstance, LAB_DOMAIN, RedisInstance, runSippUac, startKamailio, startRedis } from '../support/lab';
import { tracedMessages } from '../support/sip-trace';

const BOB = '+17085854000';
const CALLER = '+15550007777';

describe('Kamailio dispatcher in front of two gateway instances', () => {
  let idp: TestIdp;
  let redis: RedisInstance;
  let kamailio: KamailioInstance;
  let env: Record<string, string>;
  const sipPort = { a: 0, b: 0 };
  const gw = { a: undefined as GatewayProcess | undefined, b: undefined as GatewayProcess | undefined };
  let bob: RegisteredApp | undefined;
  const uri = (port: number): string => `sip:127.0.0.1:${port}`;

  const startInstance = (port: number): Promise<GatewayProcess> => spawnGatewayProcess({ ...env, SIP_LISTEN_PORT: String(port) });
  const flags = async (port: number): Promise<string> => (await kamailio.dispatcherStates())[uri(port)] ?? '';

  beforeAll(async () => {
    idp = await createTestIdp();
    redis = await startRedis();
    sipPort.a = await freePort('both');
    sipPort.b = await freePort('both');
    kamailio = await startKamailio({ dispatcher: { gateways: [uri(sipPort.a), uri(sipPort.b)], pingIntervalS: 1 }, defines: { LAB_MSG_LOG: 1 } });
    env = {
      ...labGatewayEnv(idp, kamailio, LAB_DOMAIN),
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `ds${Date.now().toString(36)}:`,
      CLUSTER_LEASE_MS: '1500',
    };
    [gw.a, gw.b] = await Promise.all([startInstance(sipPort.a), startInstance(sipPort.b)]);
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled([gw.a?.kill(), gw.b?.kill()]);
    await bob?.close();
    await Promise.allSettled([kamailio?.stop(), redis?.stop()]);
  });

  it('pings both instances and marks them active', async () => {
    await eventually(async () => (await flags(sipPort.a)).startsWith('A') && (await flags(sipPort.b)).startsWith('A'), 10_000, 'both instances active');
  });

  it("A dies: the INVITE for A's binding fails over to B, the app is invited and answers through B; A is marked inactive, then active again once back", async () => {
    const a = gw.a;
    const b = gw.b;
    if (!a || !b) throw new Error('instances not started');
    bob = await registerApp(a, idp, BOB, ['session-invitation', 'session-status']);
    const app = bob;
    // each instance keeps its own Contact: the binding points at A
    const bindings = (await kamailio.locations(BOB)).filter((l) => l.contact.includes(app.registrationId));
    expect(bindings.map((l) => l.contact.includes(`:${sipPort.a}`))).toEqual([true]);

    await a.kill();
    const killedAt = Date.now();
    const uac = runSippUac({ scenario: 'uac-call-answered', proxyPort: kamailio.port, callee: BOB, caller: CALLER, holdMs: 500, timeoutS: 25 });
    const invitation = await app.sink.waitFor((e) => e.body.type.endsWith('session-invitation') && e.body.data.originatorAddress === `tel:${CALLER}`, 15_000, 'invitation through B');
    const id = String(invitation.body.data.mediaSessionId);
    const ringing = await b.request('PUT', `${API.sessions}/${id}/status`, { token: app.token, body: { status: 'Ringing' } });
    expect(ringing.status).toBe(200);
    const answered = await b.request('PUT', `${API.sessions}/${id}/status`, { token: app.token, body: { status: 'Connected', answer: { sdp: AUDIO_OFFER.replace('o=alice', 'o=bob') } } });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ mediaSessionId: id, status: 'Connected' });

    const result = await uac;
    expect(result.exitCode).toBe(0);
    const messages = tracedMessages(result.messages);
    const invite = messages.find((m) => m.direction === 'sent' && m.method === 'INVITE' && m.status === undefined);
    const ok = messages.find((m) => m.direction === 'received' && m.method === 'INVITE' && m.status === 200 && m.callId === invite?.callId);
    // the dialog is B's: its Contact, and the answer the app gave B
    expect(ok?.headers['contact']?.[0]).toContain(`:${sipPort.b}`);
    expect(ok?.body).toContain('o=bob');
    await app.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Terminated', 10_000, 'Terminated after the caller hung up');

    // the dispatcher saw A stop answering its OPTIONS; B stays active
    await eventually(async () => (await flags(sipPort.a)).startsWith('I'), 10_000, 'A inactive');
    expect(Date.now() - killedAt).toBeLessThan(25_000);
    expect(await flags(sipPort.b)).toMatch(/^A/);

    // A known inactive: the next INVITE for its binding goes to B at once, without trying A first
    const second = runSippUac({ scenario: 'uac-call-answered', proxyPort: kamailio.port, callee: BOB, caller: `${CALLER.slice(0, -1)}8`, timeoutS: 15 });
    const again = await app.sink.waitFor((e) => e.body.type.endsWith('session-invitation') && e.body.data.originatorAddress === `tel:${CALLER.slice(0, -1)}8`, 10_000, 'second invitation');
    const declined = await b.request('PUT', `${API.sessions}/${String(again.body.data.mediaSessionId)}/status`, { token: app.token, body: { status: 'Declined' } });
    expect(declined.status).toBe(200);
    const secondTrace = tracedMessages((await second).messages);
    const secondInvite = secondTrace.find((m) => m.direction === 'sent' && m.method === 'INVITE' && m.status === undefined);
    expect(secondTrace.find((m) => m.direction === 'received' && m.method === 'INVITE' && m.callId === secondInvite?.callId && (m.status ?? 0) >= 200)?.status).toBe(603);
    // Kamailio's own account of that one call (its log lines carry the Call-ID)
    const routing = readFileSync(kamailio.logFile, 'utf8')
      .split('\n')
      .filter((l) => secondInvite !== undefined && l.includes(` ${secondInvite.callId}}`) && l.includes('dispatcher:'));
    expect(routing).toEqual([expect.stringContaining(`contact instance ${uri(sipPort.a)} is inactive, choosing another`)]);

    // A comes back on its SIP address: the next successful ping marks it active
    gw.a = await startInstance(sipPort.a);
    await eventually(async () => (await flags(sipPort.a)).startsWith('A'), 10_000, 'A active again');
  }, 90_000);
});

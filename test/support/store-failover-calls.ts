/**
 * For the store failover specs (Redis Sentinel, Redis Cluster): calls through a gateway under test,
 * set up to Connected, then held and hung up in their dialog, each checked on the far end's side;
 * and requests sent all along the failure, each timed with its outcome.
 */
import { API, AUDIO_OFFER, RegisteredApp } from './camara-app';
import { eventually, GatewayUnderTest, TestResponse } from './gateway';
import { Lab } from './lab';
import { SipExchange } from './sip-trace';

type Session = { mediaSessionId: string; status: string };
export type FailoverCall = { id: string; callId: string };

export function failoverCalls(gw: () => GatewayUnderTest, app: () => RegisteredApp, lab: () => Lab) {
  const get = (id: string) => gw().request('GET', `${API.sessions}/${id}`, { token: app().token });
  const statusOf = async (id: string) => ((await get(id)).body as Session).status;

  /** An outgoing call to the answering SIPp UAS, Connected, with the Call-ID the far end saw. */
  async function connectedCall(): Promise<FailoverCall> {
    const setup = await SipExchange.start(lab().uas.answer);
    const res = await gw().request('POST', API.sessions, {
      token: app().token,
      headers: { registrationid: app().registrationId },
      body: { originatorAddress: `tel:${app().phoneNumber}`, receiverAddress: `tel:${lab().numbers.answer}`, offer: { sdp: AUDIO_OFFER } },
    });
    expect(res.status).toBe(201);
    const id = (res.body as Session).mediaSessionId;
    const invite = await setup.received('INVITE');
    await eventually(async () => (await statusOf(id)) === 'Connected', 15_000, `call ${id} Connected`);
    return { id, callId: invite.callId };
  }

  /** Hold (re-INVITE a=sendonly answered 200), then DELETE (BYE answered 200), both in the call's dialog. */
  async function holdAndHangUp(call: FailoverCall): Promise<void> {
    const holding = await SipExchange.start(lab().uas.answer);
    const hold = await gw().request('PUT', `${API.sessions}/${call.id}/status`, { token: app().token, body: { status: 'Hold' } });
    expect(hold.status).toBe(200);
    const reinvite = await holding.waitFor(`re-INVITE of ${call.callId}`, (m) => m.direction === 'received' && m.status === undefined && m.method === 'INVITE' && m.callId === call.callId);
    expect(reinvite.body).toContain('a=sendonly');
    expect((await holding.finalResponseTo(reinvite)).status).toBe(200);
    await app().sink.waitFor((e) => e.body.data.mediaSessionId === call.id && e.body.data.status === 'Hold', 10_000, `Hold of ${call.id}`);

    const hangUp = await SipExchange.start(lab().uas.answer);
    expect((await gw().request('DELETE', `${API.sessions}/${call.id}`, { token: app().token })).status).toBe(204);
    const bye = await hangUp.waitFor(`BYE of ${call.callId}`, (m) => m.direction === 'received' && m.status === undefined && m.method === 'BYE' && m.callId === call.callId);
    expect((await hangUp.finalResponseTo(bye)).status).toBe(200);
    await app().sink.waitFor((e) => e.body.data.mediaSessionId === call.id && e.body.data.status === 'Terminated', 10_000, `Terminated of ${call.id}`);
  }

  return { get, statusOf, connectedCall, holdAndHangUp };
}

export type Probe = { kind: 'read' | 'write'; startedAt: number; ms: number; status: number; code?: string };

/**
 * A read and a write at a time, again and again (50 ms apart: a refusal comes back at once) until
 * `stop()`. `acknowledged`: what `idOf` reads from each write answered 201.
 */
export function startProbes(read: () => Promise<TestResponse>, write: () => Promise<TestResponse>, idOf: (body: unknown) => string) {
  const probes: Probe[] = [];
  const acknowledged: string[] = [];
  let stopped = false;
  const probe = async (kind: Probe['kind']): Promise<void> => {
    const startedAt = Date.now();
    const res = await (kind === 'read' ? read() : write());
    const code = (res.body as { code?: string } | undefined)?.code;
    probes.push({ kind, startedAt, ms: Date.now() - startedAt, status: res.status, ...(code !== undefined && { code }) });
    if (kind === 'write' && res.status === 201) acknowledged.push(idOf(res.body));
  };
  const activity = (async () => {
    while (!stopped) {
      await Promise.all([probe('read'), probe('write')]);
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  return {
    probes,
    acknowledged,
    /** The first probe of `kind` started after `since` that was answered `status`. */
    firstOk: (kind: Probe['kind'], status: number, since: number): Probe | undefined => probes.find((p) => p.kind === kind && p.startedAt > since && p.status === status),
    async stop(): Promise<void> {
      stopped = true;
      await activity;
    },
  };
}

/**
 * DNS rebinding against the webhook sink check: the sink's name resolves to a public address when
 * the subscription is created and to loopback when an event is delivered (the lab's dnsmasq,
 * restarted on the same port with the new record; the gateway resolves sink names there through
 * EVENTS_DNS_SERVERS). The gateway must refuse at delivery, on the address it would connect to:
 * a TCP listener on that loopback port sees no connection, and the attempt counts as `refused`.
 * Positive control: a gateway with EVENTS_ALLOW_PRIVATE_SINKS=true, same name, same DNS, same
 * listener, does connect. The events come from real calls (Kamailio answers +1555480… with 480).
 */
import { randomUUID } from 'node:crypto';
import { createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createTestIdp, TestIdp } from '../support/auth';
import { API, appScopes, AUDIO_OFFER, eventType } from '../support/camara-app';
import { DnsServer, startDnsServer } from '../support/dns-lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { KamailioInstance, Lab, LAB_DOMAIN, startKamailio } from '../support/lab';

const SINK_HOST = 'hooks.lab';
/** A global unicast address (nothing is sent to it: the name changes before the first delivery). */
const PUBLIC_ADDRESS = '93.184.216.34';
const STATUS = eventType('session-status');
/** Known only to the lab DNS, as loopback: shows that sink names are looked up there. */
const PRIVATE = { name: 'private.lab', address: '127.0.0.1' };

describe('a sink name rebound to loopback between subscription and delivery (dnsmasq, Kamailio)', () => {
  let idp: TestIdp;
  let kamailio: KamailioInstance;
  let dns: DnsServer;
  let listener: Server;
  const connections: Socket[] = [];
  const gateways: GatewayUnderTest[] = [];

  beforeAll(async () => {
    idp = await createTestIdp();
    kamailio = await startKamailio();
    dns = await startDnsServer({ a: [{ name: SINK_HOST, address: PUBLIC_ADDRESS }, PRIVATE] });
    listener = createServer((socket) => {
      connections.push(socket);
      socket.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.close()));
    await new Promise<void>((r) => listener?.close(() => r()));
    await Promise.allSettled([dns?.stop(), kamailio?.stop()]);
  });

  const sinkUrl = () => `https://${SINK_HOST}:${(listener.address() as AddressInfo).port}/events`;

  /** A gateway resolving sink names at the lab DNS, with `phone` registered; returns its token and registration. */
  async function gatewayWithApp(allowPrivateSinks: boolean, phone: string) {
    const gw = await startGateway({ kamailio, domain: LAB_DOMAIN, redis: null } as unknown as Lab, idp, {
      EVENTS_ALLOW_PRIVATE_SINKS: String(allowPrivateSinks),
      EVENTS_DNS_SERVERS: dns.server,
    });
    gateways.push(gw);
    const token = await idp.token({ phone_number: phone, scope: appScopes([STATUS]) });
    const deviceId = randomUUID();
    const reg = await gw.request('POST', API.registrations, { token, body: { deviceId } });
    expect(reg.status).toBe(201);
    const subscribe = (sink: string) => gw.request('POST', API.subscriptions, { token, body: { protocol: 'HTTP', sink, types: [STATUS], config: { subscriptionDetail: { deviceId } } } });
    const call = async () => {
      const res = await gw.request('POST', API.sessions, {
        token,
        headers: { registrationid: (reg.body as { registrationId: string }).registrationId },
        body: { originatorAddress: `tel:${phone}`, receiverAddress: 'tel:+15554800001', offer: { sdp: AUDIO_OFFER } },
      });
      expect(res.status).toBe(201);
      const id = (res.body as { mediaSessionId: string }).mediaSessionId;
      await eventually(async () => ((await gw.request('GET', `${API.sessions}/${id}`, { token })).body as { status: string }).status === 'NotReachable', 10_000, 'NotReachable');
    };
    const attempts = async (outcome: string) => {
      const line = (await gw.request('GET', '/metrics')).text.split('\n').find((l) => l.startsWith(`gateway_event_deliveries_total{outcome="${outcome}"}`));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    return { gw, subscribe, call, attempts };
  }

  it('accepts the name while it is public, refuses it at delivery once it points at loopback; with private sinks allowed the same name is connected to', async () => {
    const strict = await gatewayWithApp(false, '+17085852753');
    // the sink names are resolved at the lab DNS: a name it maps to loopback is refused at creation …
    const dnsUsed = await strict.subscribe(sinkUrl().replace(SINK_HOST, PRIVATE.name));
    expect(dnsUsed.status).toBe(400);
    expect(dnsUsed.body).toMatchObject({ code: 'INVALID_SINK', message: expect.stringMatching(/non-public/) as unknown });
    // … and the sink's name, public now, is accepted
    const sub = await strict.subscribe(sinkUrl());
    expect(sub.status).toBe(201);

    // rebinding: same name, now loopback (the same DNS server, restarted on its port with the new record)
    const port = dns.port;
    await dns.stop();
    dns = await startDnsServer({ a: [{ name: SINK_HOST, address: '127.0.0.1' }, PRIVATE] }, { port });

    await strict.call();
    await eventually(async () => (await strict.attempts('refused')) >= 1, 10_000, 'a refused delivery attempt');
    expect(connections).toHaveLength(0);
    expect(await strict.attempts('delivered')).toBe(0);

    // positive control: the same name, resolved at the same server, to the same listener, with the rule lifted
    const open = await gatewayWithApp(true, '+17085854000');
    expect((await open.subscribe(sinkUrl())).status).toBe(201);
    await open.call();
    await eventually(async () => connections.length > 0, 10_000, 'a connection to the loopback listener');
    expect(await open.attempts('refused')).toBe(0);
  }, 60_000);
});

import { Inbound, SipTransport, udpLookup } from './transport';

/** UDP transport on loopback: a datagram reaches its destination whether it is an IP literal (resolved in place) or a name (dns.lookup). */
describe('SipTransport UDP destinations', () => {
  let rx: SipTransport;
  let tx: SipTransport;
  const received: Array<{ text: string; from: Inbound }> = [];
  let port = 0;

  beforeAll(async () => {
    rx = new SipTransport('UDP', '127.0.0.1', 0, { onMessage: (raw, from) => received.push({ text: raw.toString('utf8'), from }), onWarn: () => undefined });
    tx = new SipTransport('UDP', '127.0.0.1', 0, { onMessage: () => undefined, onWarn: () => undefined });
    await rx.listen();
    await tx.listen();
    port = (rx as unknown as { udp: { address(): { port: number } } }).udp.address().port;
  });

  afterAll(async () => {
    await Promise.all([rx.close(), tx.close()]);
  });

  async function arrives(text: string): Promise<Inbound | undefined> {
    for (let i = 0; i < 200; i++) {
      const hit = received.find((r) => r.text === text);
      if (hit) return hit.from;
      await new Promise((r) => setTimeout(r, 10));
    }
    return undefined;
  }

  it('sends to an IP literal', async () => {
    const errors: Error[] = [];
    tx.send(Buffer.from('literal'), { address: '127.0.0.1', port }, (err) => errors.push(err));
    const from = await arrives('literal');
    expect(from).toMatchObject({ protocol: 'UDP', address: '127.0.0.1' });
    expect(errors).toEqual([]);
  });

  it('sends to a host name (IPv4 socket: IPv4 answer)', async () => {
    const errors: Error[] = [];
    tx.send(Buffer.from('by-name'), { address: 'localhost', port }, (err) => errors.push(err));
    const from = await arrives('by-name');
    expect(from?.address).toBe('127.0.0.1');
    expect(errors).toEqual([]);
  });
});

describe('udpLookup', () => {
  it('hands an IP literal back synchronously (no dns.lookup round through the event loop)', () => {
    const got: unknown[][] = [];
    udpLookup('192.0.2.7', 4, (...args) => got.push(args));
    udpLookup('2001:db8::1', 6, (...args) => got.push(args));
    expect(got).toEqual([
      [null, '192.0.2.7', 4],
      [null, '2001:db8::1', 6],
    ]);
  });

  it('resolves a name through dns.lookup, asynchronously, with the family asked for', async () => {
    const got: unknown[][] = [];
    const done = new Promise<void>((resolve) =>
      udpLookup('localhost', 4, (...args) => {
        got.push(args);
        resolve();
      }),
    );
    expect(got).toEqual([]);
    await done;
    expect(got).toEqual([[null, '127.0.0.1', 4]]);
  });
});

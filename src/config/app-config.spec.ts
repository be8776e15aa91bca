import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('starts with nothing set: memory store, loopback SIP, port 8080', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(8080);
    expect(c.store).toEqual({ kind: 'memory' });
    expect(c.sip.listenPort).toBe(5070);
    expect(c.sip.outboundProxy).toBe('sip:127.0.0.1:5060;transport=udp');
    expect(c.registration).toEqual({ minTtlS: 60, maxTtlS: 86400, defaultTtlS: 3600 });
    expect(Object.isFrozen(c.sip)).toBe(true);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '9000',
      REDIS_URL: 'redis://127.0.0.1:6380',
      SIP_TRANSPORT: 'tcp',
      SIP_LISTEN_PORT: '5080',
      SIP_ADVERTISED_ADDRESS: 'gw.example.net',
      EMERGENCY_CALLS: 'enabled',
      EMERGENCY_NUMBERS: '112, 999',
      EVENTS_ALLOW_PRIVATE_SINKS: 'true',
      ADMIN_TOKEN: 'a-very-long-admin-token',
    });
    expect(c.http.port).toBe(9000);
    expect(c.store).toEqual({
      kind: 'redis',
      topology: { mode: 'single', url: 'redis://127.0.0.1:6380', where: 'REDIS_URL=redis://127.0.0.1:6380', writeReplicas: 0 },
      keyPrefix: 'gw:',
      onUnreachable: 'exit',
    });
    expect(c.sip.transport).toBe('tcp');
    expect(c.sip.advertisedAddress).toBe('gw.example.net');
    expect(c.emergency).toEqual({ enabled: true, numbers: ['112', '999'], identityHeader: 'P-Asserted-Identity' });
    expect(c.events.allowPrivateSinks).toBe(true);
    expect(String(c.admin.token)).toBe('[redacted]');
    expect(c.admin.token?.reveal()).toBe('a-very-long-admin-token');
  });

  it('lists every bad variable in one error', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'eighty', SIP_TRANSPORT: 'sctp', REDIS_URL: 'http://x', REGISTRATION_MIN_TTL_S: '7200', REGISTRATION_MAX_TTL_S: '3600' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    for (const name of ['PORT', 'SIP_TRANSPORT', 'REDIS_URL', 'REGISTRATION_MIN_TTL_S']) expect(message).toContain(name);
  });

  it('reads the HTTP limits, quotas, rate limits and shutdown bound, with defaults', () => {
    const d = loadConfig({});
    expect(d.http).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 10_000, maxJsonDepth: 64 });
    expect(d.limits).toEqual({ perToken: 600, perAddress: 1200, windowS: 60, registrationsPerNumber: 10, sessionsPerNumber: 20, subscriptionsPerDevice: 20 });
    expect(d.shutdown.timeoutMs).toBe(8000);
    expect(d.auth.maxTokenLifetimeS).toBe(86_400);
    const c = loadConfig({ HTTP_MAX_JSON_DEPTH: '32', RATE_LIMIT_PER_TOKEN: '0', QUOTA_REGISTRATIONS_PER_NUMBER: '3', SHUTDOWN_TIMEOUT_MS: '5000', REDIS_URL: 'redis://h:1', REDIS_BOOT: 'retry' });
    expect(c.http.maxJsonDepth).toBe(32);
    expect(c.limits).toMatchObject({ perToken: 0, registrationsPerNumber: 3 });
    expect(c.shutdown.timeoutMs).toBe(5000);
    expect(c.store).toMatchObject({ onUnreachable: 'retry' });
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_MS: '60000' })).toThrow(/SHUTDOWN_TIMEOUT_MS/);
  });
});

describe('SIP edge settings (issue 11 items 1 and 7, issue 13)', () => {
  it('accepts IPv6 listen and advertised addresses', () => {
    const c = loadConfig({ SIP_LISTEN_ADDRESS: '::1', SIP_ADVERTISED_ADDRESS: '2001:db8::10' });
    expect(c.sip.listenAddress).toBe('::1');
    expect(c.sip.advertisedAddress).toBe('2001:db8::10');
  });

  it('reads the trust domain, the untrusted policy and the TCP limits, with defaults', () => {
    const d = loadConfig({});
    expect(d.sip).toMatchObject({ trustedPeers: [], untrustedPolicy: 'reject', maxMessageBytes: 65535, tcpMaxConnections: 1024, tcpIdleTimeoutMs: 120000 });
    const c = loadConfig({ SIP_TRUSTED_PEERS: 'pcscf.example.net, 10.0.0.5:5060,[2001:db8::5]:5060, 2001:db8::6', SIP_UNTRUSTED_POLICY: 'drop', SIP_TCP_MAX_CONNECTIONS: '10' });
    expect(c.sip.trustedPeers).toEqual(['pcscf.example.net', '10.0.0.5:5060', '[2001:db8::5]:5060', '2001:db8::6']);
    expect(c.sip.untrustedPolicy).toBe('drop');
    expect(c.sip.tcpMaxConnections).toBe(10);
  });

  it('names bad trust entries and policies', () => {
    expect(() => loadConfig({ SIP_TRUSTED_PEERS: 'a b:1', SIP_UNTRUSTED_POLICY: 'maybe', SIP_LISTEN_ADDRESS: '[::1]' })).toThrow(
      /SIP_TRUSTED_PEERS[\s\S]*SIP_UNTRUSTED_POLICY|SIP_UNTRUSTED_POLICY[\s\S]*SIP_TRUSTED_PEERS/,
    );
    expect(() => loadConfig({ SIP_LISTEN_ADDRESS: '[::1]' })).toThrow(/SIP_LISTEN_ADDRESS/);
  });

  it('reads the RFC 3263 DNS servers and probe interval, with defaults (system resolvers, 10 s)', () => {
    expect(loadConfig({}).sip).toMatchObject({ dnsServers: [], targetProbeIntervalMs: 10000, targetHoldDownMs: 30000 });
    const c = loadConfig({ SIP_DNS_SERVERS: '127.0.0.1:5353, 10.0.0.53,[2001:db8::53]:53,2001:db8::54', SIP_PROXY_PROBE_INTERVAL_MS: '500', SIP_PROXY_HOLD_DOWN_MS: '0' });
    expect(c.sip.dnsServers).toEqual(['127.0.0.1:5353', '10.0.0.53', '[2001:db8::53]:53', '2001:db8::54']);
    expect(c.sip.targetProbeIntervalMs).toBe(500);
    expect(c.sip.targetHoldDownMs).toBe(0);
  });

  it('names bad DNS servers (names are not servers) and probe intervals', () => {
    expect(() => loadConfig({ SIP_DNS_SERVERS: 'dns.example:53' })).toThrow(/SIP_DNS_SERVERS: "dns.example:53"/);
    expect(() => loadConfig({ SIP_DNS_SERVERS: '10.0.0.53:99999' })).toThrow(/SIP_DNS_SERVERS/);
    expect(() => loadConfig({ SIP_PROXY_PROBE_INTERVAL_MS: '10' })).toThrow(/SIP_PROXY_PROBE_INTERVAL_MS/);
    expect(() => loadConfig({ SIP_PROXY_HOLD_DOWN_MS: '-1' })).toThrow(/SIP_PROXY_HOLD_DOWN_MS/);
  });

  it('reads the DNS servers for webhook sink names (EVENTS_DNS_SERVERS), none by default, and names bad ones', () => {
    expect(loadConfig({}).events.dnsServers).toEqual([]);
    expect(loadConfig({ EVENTS_DNS_SERVERS: '127.0.0.1:5353,[2001:db8::53]:53' }).events.dnsServers).toEqual(['127.0.0.1:5353', '[2001:db8::53]:53']);
    expect(() => loadConfig({ EVENTS_DNS_SERVERS: 'dns.example' })).toThrow(/EVENTS_DNS_SERVERS: "dns.example"/);
  });
});

describe('webhook delivery settings (EVENTS_DELIVERY_CONCURRENCY, EVENTS_SINK_CONNECTIONS)', () => {
  it('defaults to 64 concurrent deliveries and as many connections per sink origin', () => {
    expect(loadConfig({}).events).toMatchObject({ deliveryConcurrency: 64, sinkConnections: 64 });
  });

  it('reads both; the connections follow the concurrency unless set', () => {
    expect(loadConfig({ EVENTS_DELIVERY_CONCURRENCY: '128' }).events).toMatchObject({ deliveryConcurrency: 128, sinkConnections: 128 });
    expect(loadConfig({ EVENTS_DELIVERY_CONCURRENCY: '128', EVENTS_SINK_CONNECTIONS: '16' }).events).toMatchObject({ deliveryConcurrency: 128, sinkConnections: 16 });
    expect(loadConfig({ EVENTS_SINK_CONNECTIONS: '1' }).events).toMatchObject({ deliveryConcurrency: 64, sinkConnections: 1 });
    expect(loadConfig({ EVENTS_DELIVERY_CONCURRENCY: '1024', EVENTS_SINK_CONNECTIONS: '1024' }).events).toMatchObject({ deliveryConcurrency: 1024, sinkConnections: 1024 });
  });

  it.each([
    ['EVENTS_DELIVERY_CONCURRENCY', '0'],
    ['EVENTS_DELIVERY_CONCURRENCY', '1025'],
    ['EVENTS_DELIVERY_CONCURRENCY', 'many'],
    ['EVENTS_SINK_CONNECTIONS', '0'],
    ['EVENTS_SINK_CONNECTIONS', '1025'],
    ['EVENTS_SINK_CONNECTIONS', '2.5'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: `));
  });
});

describe('SIP timer base (RFC 3261 T1, RFC 4028 Min-SE floor)', () => {
  it('defaults to the RFC values: T1 500 ms, Timer B/F 64·T1, Min-SE 90 s', () => {
    expect(loadConfig({}).sip).toMatchObject({ t1Ms: 500, transactionTimeoutMs: 32_000, minSeS: 90 });
  });

  it('derives Timer B/F from a smaller T1 unless it is set, and lowers Min-SE to a lower floor', () => {
    expect(loadConfig({ SIP_T1_MS: '100' }).sip).toMatchObject({ t1Ms: 100, transactionTimeoutMs: 6400 });
    expect(loadConfig({ SIP_T1_MS: '100', SIP_TRANSACTION_TIMEOUT_MS: '20000' }).sip.transactionTimeoutMs).toBe(20_000);
    expect(loadConfig({ SIP_MIN_SE_FLOOR_S: '6', SIP_SESSION_EXPIRES_S: '9' }).sip).toMatchObject({ minSeS: 6, sessionExpiresS: 9 });
  });

  it('refuses a T1 below 50 ms or above T2, a floor above 90 s, and a Min-SE below its floor', () => {
    expect(() => loadConfig({ SIP_T1_MS: '49' })).toThrow(/SIP_T1_MS/);
    expect(() => loadConfig({ SIP_T1_MS: '4001' })).toThrow(/SIP_T1_MS/);
    expect(() => loadConfig({ SIP_MIN_SE_FLOOR_S: '91' })).toThrow(/SIP_MIN_SE_FLOOR_S/);
    expect(() => loadConfig({ SIP_MIN_SE_FLOOR_S: '1' })).toThrow(/SIP_MIN_SE_FLOOR_S/);
    expect(() => loadConfig({ SIP_MIN_SE_S: '60' })).toThrow(/SIP_MIN_SE_S: must be at least SIP_MIN_SE_FLOOR_S/);
    expect(() => loadConfig({ SIP_MIN_SE_FLOOR_S: '10', SIP_MIN_SE_S: '9' })).toThrow(/SIP_MIN_SE_S/);
  });
});

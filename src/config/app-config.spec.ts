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
    expect(c.store).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6380', keyPrefix: 'gw:', onUnreachable: 'exit' });
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

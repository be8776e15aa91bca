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
    expect(c.store).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6380', keyPrefix: 'gw:' });
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
});

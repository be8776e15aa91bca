import type Redis from 'ioredis';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { SentinelFailoverFollower } from './sentinel-failover';

/** What the follower reads of a client: its status and its socket's peer. */
function fakeClient(remoteAddress: string, remotePort: number, status = 'ready') {
  const client = Object.assign(new EventEmitter(), { status, stream: { remoteAddress, remotePort, destroy: jest.fn() } });
  return { client, redis: client as unknown as Redis };
}

describe('SentinelFailoverFollower', () => {
  const follower = () => new SentinelFailoverFollower({ sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'gwmaster' }, pino({ level: 'silent' }));

  it('drops the connections that are not on the announced master, once per switch', () => {
    const f = follower();
    const onOld = fakeClient('127.0.0.1', 6379);
    const onNew = fakeClient('::ffff:127.0.0.1', 6380);
    f.follow(onOld.redis);
    f.follow(onNew.redis);
    f.onSwitch('gwmaster 127.0.0.1 6379 127.0.0.1 6380');
    // every sentinel announces the same switch
    f.onSwitch('gwmaster 127.0.0.1 6379 127.0.0.1 6380');
    expect(onOld.client.stream.destroy).toHaveBeenCalledTimes(1);
    expect(onNew.client.stream.destroy).not.toHaveBeenCalled();
  });

  it('ignores the announcements of other masters and malformed ones', () => {
    const f = follower();
    const c = fakeClient('127.0.0.1', 6379);
    f.follow(c.redis);
    f.onSwitch('othermaster 127.0.0.1 6379 127.0.0.1 6380');
    f.onSwitch('gwmaster 127.0.0.1 6379');
    f.onSwitch('');
    expect(c.client.stream.destroy).not.toHaveBeenCalled();
  });

  it('compares IPv6 addresses, and moves a connection when the sentinels announce a host name', () => {
    const f = follower();
    const v6 = fakeClient('2001:db8::7', 6380);
    f.follow(v6.redis);
    f.onSwitch('gwmaster 2001:db8::6 6379 2001:DB8::7 6380');
    expect(v6.client.stream.destroy).not.toHaveBeenCalled();
    f.onSwitch('gwmaster 2001:db8::7 6380 redis-b.internal 6380');
    expect(v6.client.stream.destroy).toHaveBeenCalledTimes(1);
  });

  it('leaves connections that are not ready (they ask the sentinels anyway) and forgets closed ones', () => {
    const f = follower();
    const reconnecting = fakeClient('127.0.0.1', 6379, 'reconnecting');
    const closed = fakeClient('127.0.0.1', 6379);
    f.follow(reconnecting.redis);
    f.follow(closed.redis);
    closed.client.emit('end');
    f.onSwitch('gwmaster 127.0.0.1 6379 127.0.0.1 6380');
    expect(reconnecting.client.stream.destroy).not.toHaveBeenCalled();
    expect(closed.client.stream.destroy).not.toHaveBeenCalled();
  });
});

import type { SipMessage } from 'sip';
import { responseTarget, stampReceived } from './via';
import { parseViaValue } from '../syntax/header-values';

function request(via: string): SipMessage {
  return { method: 'OPTIONS', uri: 'sip:a@b', headers: { via: [parseViaValue(via)] } };
}

describe('RFC 3581 / RFC 3261 §18.2 on received requests', () => {
  it('fills in received and rport when rport was asked for, even if the host matches', () => {
    const rq = request('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport');
    stampReceived(rq, { protocol: 'UDP', address: '192.0.2.1', port: 61000 });
    expect(rq.headers.via?.[0]?.params).toEqual({ branch: 'z9hG4bK1', rport: '61000', received: '192.0.2.1' });
  });

  it('adds received (bare IPv6, RFC 3261 grammar) only when sent-by differs, without rport', () => {
    const same = request('SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1');
    stampReceived(same, { protocol: 'UDP', address: '2001:db8:0::1', port: 5060 });
    expect(same.headers.via?.[0]?.params).toEqual({ branch: 'z9hG4bK1' });
    const nat = request('SIP/2.0/UDP pc.example.com;branch=z9hG4bK1');
    stampReceived(nat, { protocol: 'UDP', address: '2001:db8::9', port: 5060 });
    expect(nat.headers.via?.[0]?.params.received).toBe('2001:db8::9');
  });

  it('sends UDP responses to the source port with rport, else to the sent-by port (default 5060), maddr first', () => {
    const src = { protocol: 'UDP' as const, address: '192.0.2.9', port: 40000 };
    expect(responseTarget(parseViaValue('SIP/2.0/UDP h:5070;rport=40000;received=192.0.2.9'), src)).toEqual(src);
    expect(responseTarget(parseViaValue('SIP/2.0/UDP h:5070'), src)).toEqual({ protocol: 'UDP', address: '192.0.2.9', port: 5070 });
    expect(responseTarget(parseViaValue('SIP/2.0/UDP h'), src)).toEqual({ protocol: 'UDP', address: '192.0.2.9', port: 5060 });
    expect(responseTarget(parseViaValue('SIP/2.0/UDP h:5070;maddr=[2001:db8::7]'), src)).toEqual({ protocol: 'UDP', address: '2001:db8::7', port: 5070 });
  });

  it('on TCP keeps the connection, or reconnects to the received address and sent-by port once it is gone', () => {
    const src = { protocol: 'TCP' as const, address: '192.0.2.9', port: 40000 };
    expect(responseTarget(parseViaValue('SIP/2.0/TCP h:5070'), src)).toEqual({ ...src, port: 5070 });
  });
});

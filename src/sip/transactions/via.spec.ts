import type { SipMessage } from 'sip';
import type * as net from 'node:net';
import { branchOf, newVia, parseVia, responseTarget, sentBy, stampReceived, toTagOf, viaText } from './via';
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

  it('on TLS likewise, the sent-by port defaulting to 5061 (RFC 3261 §19.1.2)', () => {
    const src = { protocol: 'TLS' as const, address: '192.0.2.9', port: 40000 };
    expect(responseTarget(parseViaValue('SIP/2.0/TLS h:5071'), src)).toEqual({ ...src, port: 5071 });
    expect(responseTarget(parseViaValue('SIP/2.0/TLS h'), src)).toEqual({ ...src, port: 5061 });
  });

  it('offers the connection for reuse on TLS (RFC 5923 alias), rport on UDP only (RFC 3581)', () => {
    expect(Object.keys(newVia('TLS', '192.0.2.5', 5071).params)).toEqual(['branch', 'alias']);
    expect(Object.keys(newVia('UDP', '192.0.2.5', 5071).params)).toEqual(['branch', 'rport']);
    expect(Object.keys(newVia('TCP', '192.0.2.5', 5071).params)).toEqual(['branch']);
    expect(viaText(newVia('TLS', '192.0.2.5', 5071))).toMatch(/^SIP\/2\.0\/TLS 192\.0\.2\.5:5071;branch=z9hG4bK\w+;alias$/);
  });
});

describe('Via helpers', () => {
  it('parses our own Via text and rejects a malformed one', () => {
    const via = parseVia('SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKabc;rport');
    expect(via).toMatchObject({ protocol: 'UDP', host: '192.0.2.1', port: 5070, params: { branch: 'z9hG4bKabc', rport: null } });
    expect(parseVia(viaText(via!))).toEqual(via);
    expect(parseVia('not a via')).toBeUndefined();
  });

  it('builds a new Via with a fresh RFC 3261 branch, rport only on UDP, bracketed IPv6', () => {
    const udp = newVia('UDP', '2001:db8::1', 5060);
    expect(udp).toEqual({ version: '2.0', protocol: 'UDP', host: '[2001:db8::1]', port: 5060, params: { branch: expect.stringMatching(/^z9hG4bK./), rport: null } });
    const tcp = newVia('TCP', 'gw.example.com', 5061);
    expect(tcp).toEqual({ version: '2.0', protocol: 'TCP', host: 'gw.example.com', port: 5061, params: { branch: expect.stringMatching(/^z9hG4bK./) } });
    expect(tcp.params.branch).not.toBe(udp.params.branch);
  });

  it('leaves a request without Via alone', () => {
    const rq: SipMessage = { method: 'OPTIONS', uri: 'sip:a@b', headers: {} };
    stampReceived(rq, { protocol: 'UDP', address: '192.0.2.1', port: 5060 });
    expect(rq.headers).toEqual({});
  });

  it('adds nothing when the sent-by address is the source and no rport was asked for', () => {
    const rq = request('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1');
    stampReceived(rq, { protocol: 'UDP', address: '192.0.2.1', port: 61000 });
    expect(rq.headers.via?.[0]?.params).toEqual({ branch: 'z9hG4bK1' });
  });

  it('answers on the live TCP connection, and to the sent-by port once it is destroyed', () => {
    const live = { protocol: 'TCP' as const, address: '192.0.2.9', port: 40000, connection: { destroyed: false } as net.Socket };
    expect(responseTarget(parseViaValue('SIP/2.0/TCP h:5070'), live)).toEqual(live);
    const gone = { ...live, connection: { destroyed: true } as net.Socket };
    expect(responseTarget(parseViaValue('SIP/2.0/TCP h:5070'), gone)).toEqual({ ...gone, port: 5070 });
    expect(responseTarget(parseViaValue('SIP/2.0/TCP h'), gone).port).toBe(5060);
  });

  it('without a Via answers to the source; an empty maddr is ignored', () => {
    const src = { protocol: 'UDP' as const, address: '192.0.2.9', port: 40000 };
    expect(responseTarget(undefined, src)).toEqual(src);
    expect(responseTarget({ ...parseViaValue('SIP/2.0/UDP h:5070'), params: { maddr: '' } }, src)).toEqual({ protocol: 'UDP', address: '192.0.2.9', port: 5070 });
    expect(responseTarget(parseViaValue('SIP/2.0/UDP h:5070;maddr=198.51.100.1;rport'), src)).toEqual({ protocol: 'UDP', address: '198.51.100.1', port: 5070 });
  });

  it('reads branch, sent-by and To tag, with empty answers when absent', () => {
    const m: SipMessage = { method: 'INVITE', uri: 'sip:a@b', headers: { via: [parseViaValue('SIP/2.0/UDP h:5070;branch=z9hG4bKx')], to: { uri: 'sip:a@b', params: { tag: 't1' } } } };
    expect(branchOf(m)).toBe('z9hG4bKx');
    expect(sentBy(m)).toBe('h:5070');
    expect(toTagOf(m)).toBe('t1');
    const bare: SipMessage = { method: 'INVITE', uri: 'sip:a@b', headers: { via: [parseViaValue('SIP/2.0/UDP h')], to: { uri: 'sip:a@b', params: { tag: '' } } } };
    expect(branchOf(bare)).toBe('');
    expect(sentBy(bare)).toBe('h:');
    expect(toTagOf(bare)).toBeUndefined();
    const none: SipMessage = { method: 'INVITE', uri: 'sip:a@b', headers: {} };
    expect(branchOf(none)).toBe('');
    expect(sentBy(none)).toBe('');
    expect(toTagOf(none)).toBeUndefined();
    // an empty Via list and a valueless `;tag` parameter (null) read as absent, without throwing
    const empty: SipMessage = { method: 'INVITE', uri: 'sip:a@b', headers: { via: [], to: { uri: 'sip:a@b', params: { tag: null } } } };
    expect(branchOf(empty)).toBe('');
    expect(toTagOf(empty)).toBeUndefined();
  });
});

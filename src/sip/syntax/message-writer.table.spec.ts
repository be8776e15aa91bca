import type { SipMessage } from 'sip';
import { SipSyntaxError } from '../sip-syntax';
import { encodeMessage, writeHead } from './message-writer';

/**
 * The message writer's refusals and list headers, row by row: RFC 3261 §7.3.1 folding is never
 * produced, so a CR or LF at any position of a value (first character included) is refused;
 * RFC 3261 §20.34 Route is a comma-joined name-addr list.
 */

const OPTIONS = (headers: Record<string, unknown>, uri = 'sip:h'): SipMessage => ({ method: 'OPTIONS', uri, headers });

describe('encodeMessage / writeHead: CR and LF anywhere are refused', () => {
  const values = ['\rX', '\nX', 'a\rb', 'a\nb', 'ab\r', 'ab\n', '\r\n'];

  it.each(values)('header value %j → "header subject contains CR or LF"', (v) => {
    expect(() => encodeMessage(OPTIONS({ subject: v }))).toThrow(new SipSyntaxError('header subject contains CR or LF'));
    expect(() => writeHead('OPTIONS sip:h SIP/2.0', [['subject', v]], 0)).toThrow(new SipSyntaxError('header subject contains CR or LF'));
  });

  it.each(values)('start line with %j → "header start line contains CR or LF"', (v) => {
    expect(() => encodeMessage(OPTIONS({}, `sip:h${v}`))).toThrow(new SipSyntaxError('header start line contains CR or LF'));
    expect(() => writeHead(`${v}OPTIONS sip:h SIP/2.0`, [], 0)).toThrow(new SipSyntaxError('header start line contains CR or LF'));
  });

  it('positive control: the same values without CR or LF are written', () => {
    expect(encodeMessage(OPTIONS({ subject: 'aXb' })).toString()).toBe('OPTIONS sip:h SIP/2.0\r\nSubject: aXb\r\nContent-Length: 0\r\n\r\n');
    expect(writeHead('OPTIONS sip:h SIP/2.0', [['subject', 'aXb']], 0)).toBe('OPTIONS sip:h SIP/2.0\r\nSubject: aXb\r\nContent-Length: 0\r\n\r\n');
  });
});

describe('encodeMessage: name-addr list headers (RFC 3261 §20.10, §20.30, §20.34)', () => {
  const rows: { header: string; wire: string }[] = [
    { header: 'route', wire: 'Route: <sip:p1;lr>, <sip:p2;lr>' },
    { header: 'record-route', wire: 'Record-Route: <sip:p1;lr>, <sip:p2;lr>' },
    { header: 'contact', wire: 'Contact: <sip:p1;lr>, <sip:p2;lr>' },
    { header: 'path', wire: 'Path: <sip:p1;lr>, <sip:p2;lr>' },
  ];
  it.each(rows)('$header: two entries on one comma-joined line', ({ header, wire }) => {
    const list = [
      { uri: 'sip:p1;lr', params: {} },
      { uri: 'sip:p2;lr', params: {} },
    ];
    expect(encodeMessage(OPTIONS({ [header]: list })).toString()).toBe(`OPTIONS sip:h SIP/2.0\r\n${wire}\r\nContent-Length: 0\r\n\r\n`);
  });
});

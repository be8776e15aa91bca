import { attributeName, formatMediaLine, MediaLine, mLineOf, parseMediaLine, readDocument, splitLines, toDocument, trimLineEnd, writeDocument } from './sdp-document';
import { SdpError } from './sdp.error';

describe('SDP document model (RFC 8866 §5)', () => {
  it('splits session lines from one block per m-section, each starting with its m= line', () => {
    expect(toDocument(['v=0', 's=-', 'm=audio 1 RTP/AVP 0', 'a=sendrecv', 'm=video 2 RTP/AVP 96', 'a=x'])).toStrictEqual({
      session: ['v=0', 's=-'],
      media: [
        ['m=audio 1 RTP/AVP 0', 'a=sendrecv'],
        ['m=video 2 RTP/AVP 96', 'a=x'],
      ],
    });
    expect(toDocument(['v=0', 'a=m=audio'])).toStrictEqual({ session: ['v=0', 'a=m=audio'], media: [] });
  });

  it.each<[string, string[]]>([
    ['CRLF', ['a', 'b', '']],
    ['LF', ['a', 'b', '']],
    ['CR', ['a', 'b', '']],
    ['CRLF then LF', ['a', 'b', '']],
  ])('accepts %s line ends (RFC 8866 §5: parsers SHOULD accept LF)', (kind, expected) => {
    const text = { CRLF: 'a\r\nb\r\n', LF: 'a\nb\n', CR: 'a\rb\r', 'CRLF then LF': 'a\r\nb\n' }[kind] ?? '';
    expect(splitLines(text)).toStrictEqual(expected);
  });

  it('keeps an empty line between CR and LF as one break, not two', () => {
    expect(splitLines('a\r\n\r\nb')).toStrictEqual(['a', '', 'b']);
  });

  it.each<[string, string]>([
    ['a=sendrecv  \t', 'a=sendrecv'],
    ['a=x\0\0', 'a=x'],
    ['s=', 's= '],
    ['s=  ', 's= '],
    ['s=-', 's=-'],
    [' a=x', ' a=x'],
    ['a=b c', 'a=b c'],
  ])('trims the end of %j to %j (RFC 8866 §5.3 keeps "s= ")', (line, expected) => {
    expect(trimLineEnd(line)).toBe(expected);
  });

  it('reads text tolerantly (blank and space-only lines dropped) and writes it back with CRLF', () => {
    const doc = readDocument('v=0\n\ns=\n  \nm=audio 1 RTP/AVP 0 \r\na=sendonly\r\n');
    expect(doc).toStrictEqual({ session: ['v=0', 's= '], media: [['m=audio 1 RTP/AVP 0', 'a=sendonly']] });
    expect(writeDocument(doc)).toBe('v=0\r\ns= \r\nm=audio 1 RTP/AVP 0\r\na=sendonly\r\n');
    expect(writeDocument({ session: ['v=0'], media: [] })).toBe('v=0\r\n');
  });

  it.each<[string, string | undefined]>([
    ['a=rtpmap:0 PCMU/8000', 'rtpmap'],
    ['a=sendrecv', 'sendrecv'],
    ['a=fmtp:101 0-15:x', 'fmtp'],
    ['a=', ''],
    ['b=AS:64', undefined],
    ['m=audio 1 RTP/AVP 0', undefined],
  ])('names the attribute of %j: %j', (line, name) => {
    expect(attributeName(line)).toBe(name);
  });

  it.each<[string, MediaLine | undefined]>([
    ['m=audio 49170 RTP/AVP 0 8 97', { media: 'audio', port: 49170, portCount: undefined, proto: 'RTP/AVP', formats: ['0', '8', '97'] }],
    ['m=video 49170/2 RTP/AVP 31', { media: 'video', port: 49170, portCount: 2, proto: 'RTP/AVP', formats: ['31'] }],
    ['m=application 9 UDP/DTLS/SCTP webrtc-datachannel', { media: 'application', port: 9, portCount: undefined, proto: 'UDP/DTLS/SCTP', formats: ['webrtc-datachannel'] }],
    ['m=audio 49170 RTP/AVP', undefined],
    ['m=audio port RTP/AVP 0', undefined],
    ['m=audio 12345678901 RTP/AVP 0', undefined],
    ['m=audio 1/ RTP/AVP 0', undefined],
    ['m=audio  1 RTP/AVP 0', undefined],
    ['m=audio 1 RTP/AVP 0 ', undefined],
    ['xm=audio 1 RTP/AVP 0', undefined],
    ['m=audio 1 RTP/AVP 0\r\na=x', undefined],
  ])('parses %j (RFC 8866 §5.14)', (line, expected) => {
    expect(parseMediaLine(line)).toStrictEqual(expected);
  });

  it.each(['m=audio 49170 RTP/AVP 0 8 97', 'm=video 49170/2 RTP/AVP 31', 'm=application 0 UDP/DTLS/SCTP webrtc-datachannel'])('writes %j back as it was read', (line) => {
    const parsed = parseMediaLine(line);
    expect(parsed).toBeDefined();
    if (parsed) expect(formatMediaLine(parsed)).toBe(line);
  });

  it('writes a changed port, with and without a port count', () => {
    expect(formatMediaLine({ media: 'audio', port: 0, portCount: undefined, proto: 'RTP/AVP', formats: ['0', '8'] })).toBe('m=audio 0 RTP/AVP 0 8');
    expect(formatMediaLine({ media: 'audio', port: 0, portCount: 2, proto: 'RTP/AVP', formats: ['0'] })).toBe('m=audio 0/2 RTP/AVP 0');
  });

  it('returns the m= line of a block and refuses a block without one', () => {
    expect(mLineOf(['m=audio 1 RTP/AVP 0', 'a=x'])).toBe('m=audio 1 RTP/AVP 0');
    expect(() => mLineOf([])).toThrow(new SdpError('SDP m-section has no m= line'));
    expect(() => mLineOf(['a=x', 'm=audio 1 RTP/AVP 0'])).toThrow(SdpError);
  });
});

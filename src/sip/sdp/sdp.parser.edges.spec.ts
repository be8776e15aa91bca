import { parseOffer, SDP_LIMITS, validateSdp } from './sdp.parser';
import { SdpError } from './sdp.error';

/** sdp.parser edges mutation testing found unchecked: the limits at their exact values, error texts, repeated t=, defaults. */

const SEED = 'v=0\r\no=- 2890844526 2890842807 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const withLine = (line: string): string => `${SEED}${line}\r\n`;

describe('SDP limits at their exact values', () => {
  it('accepts an SDP of exactly maxBytes and refuses one byte more', () => {
    // padding lines below the line limit, the last one cut to the byte
    const lines = (total: number): string => {
      let s = SEED;
      while (Buffer.byteLength(s) + 4000 < total) s += `a=x-pad:${'p'.repeat(4000 - 12)}\r\n`;
      const rest = total - Buffer.byteLength(s) - 'a=x-pad:\r\n'.length;
      return `${s}a=x-pad:${'p'.repeat(rest)}\r\n`;
    };
    const max = lines(SDP_LIMITS.maxBytes);
    expect(Buffer.byteLength(max)).toBe(SDP_LIMITS.maxBytes);
    expect(() => validateSdp(max)).not.toThrow();
    const over = lines(SDP_LIMITS.maxBytes + 1);
    expect(() => validateSdp(over)).toThrow(new SdpError(`SDP is ${SDP_LIMITS.maxBytes + 1} bytes, more than the ${SDP_LIMITS.maxBytes} allowed`));
  });

  it('accepts a line of exactly maxLineLength characters', () => {
    const line = `a=x-long:${'l'.repeat(SDP_LIMITS.maxLineLength - 'a=x-long:'.length)}`;
    expect(line).toHaveLength(SDP_LIMITS.maxLineLength);
    expect(() => validateSdp(withLine(line))).not.toThrow();
    expect(() => validateSdp(withLine(`${line}l`))).toThrow(/is 4097 characters long, more than the 4096 allowed/);
  });
});

describe('SDP error texts', () => {
  it('quotes a bad line up to 80 characters, longer ones cut at 77 with "..."', () => {
    const exactly80 = `x${'y'.repeat(79)}`;
    expect(() => validateSdp(withLine(exactly80))).toThrow(`SDP line 8 is not of the form <type>=<value>: "${exactly80}"`);
    const long = `x${'y'.repeat(100)}`;
    expect(() => validateSdp(withLine(long))).toThrow(`SDP line 8 is not of the form <type>=<value>: "${long.slice(0, 77)}..."`);
  });
});

describe('SDP structure', () => {
  it('allows repeated t= lines (RFC 8866 §5.9) but no other repeated session line', () => {
    const twoT = SEED.replace('t=0 0\r\n', 't=0 0\r\nt=3034423619 3042462419\r\n');
    expect(validateSdp(twoT).sdp).toContain('t=3034423619 3042462419\r\n');
    expect(() => validateSdp(SEED.replace('s=-\r\n', 's=-\r\ns=again\r\n'))).toThrow(/s= may appear only once/);
  });

  it('validateSdp is strict and passthrough unless told otherwise', () => {
    const chrome = SEED.replace('t=0 0\r\n', 't=0 0\r\na=extmap-allow-mixed\r\n');
    expect(validateSdp(chrome).sdp).toContain('a=extmap-allow-mixed');
    expect(validateSdp(chrome, { profile: 'ims' }).sdp).not.toContain('a=extmap-allow-mixed');
    expect(() => validateSdp(withLine('junk'))).toThrow(SdpError);
    expect(validateSdp(withLine('junk'), { lenient: true }).dropped).toEqual(['junk']);
    expect(() => parseOffer(withLine('junk'), { profile: 'passthrough' })).toThrow(SdpError);
  });
});

import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { IMS_REMOVALS } from './ims-profile';
import { normaliseSdp, parseOffer, SDP_LIMITS, validateSdp } from './sdp.parser';
import { SdpError } from './sdp.error';

const FIXTURES = join(__dirname, '__fixtures__');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const inputs = readdirSync(FIXTURES)
  .filter((f) => /^[a-z-]+\.sdp$/.test(f))
  .map((f) => f.replace(/\.sdp$/, ''));

/** The CAMARA seed example (RFC 4566 §5 example shape). */
const SEED = 'v=0\r\no=- 2890844526 2890842807 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const lines = (sdp: string): string[] => sdp.split('\r\n').slice(0, -1);
const withLines = (ls: string[]): string => ls.join('\r\n') + '\r\n';

function expectSdpError(fn: () => unknown, message: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SdpError);
    expect((e as SdpError).code).toBe('INVALID_ARGUMENT');
    expect((e as SdpError).message).toMatch(message);
    return;
  }
  throw new Error('expected an SdpError');
}

describe('parseOffer', () => {
  describe('golden files', () => {
    it('has the fixtures the team agreed on', () => {
      expect(inputs.sort()).toEqual(['camara-sdes', 'camara-seed', 'chrome-audio', 'chrome-audio-video-bundle', 'chrome-trickle', 'firefox', 'ims-amrwb', 'safari']);
    });

    describe.each(inputs)('%s', (name) => {
      it.each(['passthrough', 'ims'] as const)('normalises to the checked-in %s output', (profile) => {
        const { sdp } = parseOffer(fixture(`${name}.sdp`), { profile });
        expect(sdp).toBe(fixture(`${name}.${profile}.expected.sdp`));
      });

      it.each(['passthrough', 'ims'] as const)('is idempotent for %s', (profile) => {
        const once = parseOffer(fixture(`${name}.sdp`), { profile }).sdp;
        expect(parseOffer(once, { profile }).sdp).toBe(once);
      });

      it('keeps every m= line, codec line and candidate in the ims profile', () => {
        const input = fixture(`${name}.sdp`).split(/\r?\n/);
        const out = lines(parseOffer(fixture(`${name}.sdp`), { profile: 'ims' }).sdp);
        for (const l of input.filter((x) => /^(m=|a=rtpmap:|a=fmtp:|a=rtcp-fb:|a=candidate:)/.test(x))) {
          expect(out).toContain(l.trimEnd());
        }
      });
    });

    it('accepts the CAMARA seed example unchanged', () => {
      const r = parseOffer(SEED, { profile: 'passthrough' });
      expect(r.sdp).toBe(SEED);
      expect(r.dropped).toEqual([]);
      expect(r.session.media[0]?.rtp[0]).toEqual({ payload: 0, codec: 'PCMU', rate: 8000 });
      expect(r.session.origin.sessionVersion).toBe(2890842807);
    });

    it('keeps IMS precondition and AMR-WB lines (RFC 3312, RFC 4867)', () => {
      const out = lines(parseOffer(fixture('ims-amrwb.sdp'), { profile: 'ims' }).sdp);
      expect(out).toEqual(
        expect.arrayContaining([
          'a=fmtp:97 mode-set=0,1,2; mode-change-capability=2; max-red=0',
          'a=curr:qos local none',
          'a=des:qos mandatory local sendrecv',
          'a=ptime:20',
          'a=maxptime:240',
          'a=rtpmap:100 telephone-event/16000',
        ]),
      );
    });
  });

  describe('normalisation', () => {
    it('converts LF and CR line endings to CRLF', () => {
      expect(normaliseSdp(SEED.replace(/\r\n/g, '\n'))).toBe(SEED);
      expect(normaliseSdp(SEED.replace(/\r\n/g, '\r'))).toBe(SEED);
    });

    it('adds the final CRLF when missing', () => {
      expect(normaliseSdp(SEED.slice(0, -2))).toBe(SEED);
    });

    it('removes trailing blank lines, whitespace and NUL padding', () => {
      expect(normaliseSdp(`${SEED}\r\n  \r\n\t\0\0`)).toBe(SEED);
      expect(normaliseSdp(SEED.replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:0 PCMU/8000 \t'))).toBe(SEED);
    });

    it('keeps "s= " (RFC 8866 §5.3) and turns an empty s= into it', () => {
      expect(normaliseSdp(SEED.replace('s=-', 's= '))).toContain('\r\ns= \r\n');
      expect(normaliseSdp(SEED.replace('s=-', 's='))).toContain('\r\ns= \r\n');
    });

    it('keeps line order and attributes sdp-transform cannot write back', () => {
      const sdp = withLines([
        ...lines(SEED).slice(0, 5),
        'k=prompt',
        'a=ice-options:trickle renomination',
        'm=audio 49170 RTP/AVP 0',
        'a=candidate:1 1 udp 2122260223 192.0.2.1 49170 typ host generation 0 ufrag abcd network-id 1 network-cost 10',
        'a=x-unknown:whatever',
        'a=rtpmap:0 PCMU/8000',
      ]);
      expect(normaliseSdp(sdp)).toBe(sdp);
    });
  });

  describe('validation (one test per rule)', () => {
    it('rejects a non-string', () => {
      expectSdpError(() => validateSdp(42 as unknown as string), 'SDP must be a string');
    });

    it(`rejects more than ${SDP_LIMITS.maxBytes} bytes`, () => {
      const big = SEED + 'a=x:' + 'y'.repeat(4000) + '\r\n';
      expectSdpError(() => validateSdp(big.repeat(17)), /SDP is \d+ bytes, more than the 65536 allowed/);
    });

    it('rejects a line that is not <type>=<value>, naming the line', () => {
      const sdp = withLines([...lines(SEED).slice(0, 6), 'foo', 'a=rtpmap:0 PCMU/8000']);
      expectSdpError(() => validateSdp(sdp), 'SDP line 7 is not of the form <type>=<value>: "foo"');
    });

    it('rejects an upper-case type letter', () => {
      expectSdpError(() => validateSdp(SEED.replace('a=rtpmap', 'A=rtpmap')), /SDP line 7 is not of the form/);
    });

    it('rejects a blank line in the middle', () => {
      expectSdpError(() => validateSdp(SEED.replace('t=0 0\r\n', 't=0 0\r\n\r\n')), 'SDP line 6 is not of the form <type>=<value>: ""');
    });

    it('rejects control characters in a value', () => {
      expectSdpError(() => validateSdp(SEED.replace('s=-', 's=a\u0001b')), /SDP line 3 is not of the form/);
    });

    it('rejects an unknown type letter', () => {
      expectSdpError(() => validateSdp(SEED.replace('t=0 0', 't=0 0\r\nx=1')), 'SDP line 6 has unknown type "x=": "x=1"');
    });

    it(`rejects a line longer than ${SDP_LIMITS.maxLineLength} characters`, () => {
      const sdp = SEED + `a=x:${'y'.repeat(SDP_LIMITS.maxLineLength)}\r\n`;
      expectSdpError(() => validateSdp(sdp), /SDP line 8 is 4100 characters long, more than the 4096 allowed/);
    });

    it('requires v=0 first', () => {
      expectSdpError(() => validateSdp(`s=x\r\n${SEED}`), 'SDP must start with "v=0", but line 1 is "s=x"');
    });

    it('requires version 0', () => {
      expectSdpError(() => validateSdp(SEED.replace('v=0', 'v=1')), 'SDP line 1 must be "v=0": "v=1"');
    });

    it('requires a v= line', () => {
      expectSdpError(() => validateSdp(SEED.replace('v=0\r\n', '')), 'SDP has no v= line');
    });

    it('rejects a second v= line', () => {
      expectSdpError(() => validateSdp(SEED.replace('s=-', 's=-\r\nv=0')), 'SDP line 4: v= may appear only once');
    });

    it.each(['o', 's', 't'])('requires an %s= line', (type) => {
      const sdp = withLines(lines(SEED).filter((l) => !l.startsWith(`${type}=`)));
      expectSdpError(() => validateSdp(sdp), `SDP has no ${type}= line`);
    });

    it('rejects a malformed o= line', () => {
      expectSdpError(() => validateSdp(SEED.replace(/o=.*\r\n/, 'o=- 1 IN IP4\r\n')), /SDP line 2: o= must be/);
    });

    it('rejects a second o= line', () => {
      expectSdpError(() => validateSdp(SEED.replace('s=-', 's=-\r\no=- 1 1 IN IP4 192.0.2.1')), 'SDP line 4: o= may appear only once');
    });

    it('rejects session-only lines inside an m-section', () => {
      expectSdpError(() => validateSdp(`${SEED}t=0 0\r\n`), 'SDP line 8: t= is only allowed before the first m= line: "t=0 0"');
    });

    it('requires an m= line', () => {
      expectSdpError(() => validateSdp(withLines(lines(SEED).slice(0, 5))), 'SDP has no m= line');
    });

    it('rejects a malformed m= line', () => {
      expectSdpError(() => validateSdp(SEED.replace('m=audio 49170 RTP/AVP 0', 'm=audio RTP/AVP 0')), /SDP line 6: m= line must be "<media> <port> <proto> <fmt> ..."/);
    });

    it('rejects an m= line without formats', () => {
      expectSdpError(() => validateSdp(SEED.replace('RTP/AVP 0', 'RTP/AVP')), /SDP line 6: m= line must be/);
    });

    it('rejects a port above 65535', () => {
      expectSdpError(() => validateSdp(SEED.replace('49170', '65536')), 'SDP line 6: m= port 65536 is out of range 0..65535');
    });

    it('accepts ports 0 and 65535 and a port count', () => {
      expect(() => validateSdp(SEED.replace('49170', '0'))).not.toThrow();
      expect(() => validateSdp(SEED.replace('49170', '65535/2'))).not.toThrow();
    });

    it('rejects an unknown protocol', () => {
      expectSdpError(() => validateSdp(SEED.replace('RTP/AVP', 'RTP/FOO')), 'SDP line 6: m= protocol "RTP/FOO" is not supported');
    });

    it.each([
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'm=application 9 TCP/DTLS/SCTP webrtc-datachannel',
      'm=message 7394 TCP/MSRP *',
      'm=message 7394 TCP/TLS/MSRP *',
      'm=image 5000 udptl t38',
      'm=application 50000 TCP/BFCP *',
      'm=video 49170 RTP/AVPF 96',
      'm=audio 49170 RTP/SAVP 0',
    ])('accepts %s', (mLine) => {
      expect(() => validateSdp(SEED.replace('m=audio 49170 RTP/AVP 0', mLine))).not.toThrow();
    });

    it('requires c= at session level or in every m-section (RFC 8866 §5.7)', () => {
      const noSessionC = withLines(lines(SEED).filter((l) => !l.startsWith('c=')));
      expectSdpError(() => validateSdp(noSessionC), 'SDP m= section 1 (line 5) has no c= line and there is no session-level c= line');
      const perMedia = withLines([...lines(noSessionC), 'c=IN IP4 192.0.2.1']);
      expect(() => validateSdp(perMedia)).not.toThrow();
      const secondMissing = withLines([...lines(perMedia), 'm=video 5000 RTP/AVP 96', 'a=rtpmap:96 H264/90000']);
      expectSdpError(() => validateSdp(secondMissing), /SDP m= section 2 \(line 8\) has no c= line/);
    });

    it('rejects a malformed c= line', () => {
      expectSdpError(() => validateSdp(SEED.replace('c=IN IP4 203.0.113.1', 'c=IN IP5 x')), 'SDP line 4: c= must be "IN IP4|IP6 <address>": "c=IN IP5 x"');
    });

    it(`rejects more than ${SDP_LIMITS.maxMediaSections} m= lines`, () => {
      const sections = Array.from({ length: 17 }, (_, i) => `m=audio ${5000 + 2 * i} RTP/AVP 0`);
      expect(() => validateSdp(withLines([...lines(SEED).slice(0, 5), ...sections.slice(0, 16)]))).not.toThrow();
      expectSdpError(() => validateSdp(withLines([...lines(SEED).slice(0, 5), ...sections])), 'SDP has more than 16 m= lines (line 22)');
    });

    it(`rejects more than ${SDP_LIMITS.maxCandidatesPerSection} candidates in one m-section`, () => {
      const cands = Array.from({ length: 257 }, (_, i) => `a=candidate:${i} 1 udp 2122260223 192.0.2.1 ${1000 + i} typ host`);
      expect(() => validateSdp(withLines([...lines(SEED), ...cands.slice(0, 256)]))).not.toThrow();
      expectSdpError(() => validateSdp(withLines([...lines(SEED), ...cands])), 'SDP m= section 1 (line 6) has more than 256 candidates');
    });
  });

  describe('lenient mode (emergency calls)', () => {
    it('drops unparseable lines and reports them', () => {
      const sdp = withLines([...lines(SEED).slice(0, 6), 'foo', ' a=indented', 'x=1', `a=${'z'.repeat(5000)}`, 'a=rtpmap:0 PCMU/8000']);
      const r = parseOffer(sdp, { profile: 'passthrough', lenient: true });
      expect(r.sdp).toBe(SEED);
      expect(r.dropped).toEqual(['foo', ' a=indented', 'x=1', `a=${'z'.repeat(5000)}`]);
    });

    it('drops garbage before v=0', () => {
      const r = parseOffer(`garbage\r\na=foo\r\n${SEED}`, { profile: 'passthrough', lenient: true });
      expect(r.sdp).toBe(SEED);
      expect(r.dropped).toEqual(['garbage', 'a=foo']);
    });

    it('accepts the CAMARA example that ends in " [...]"', () => {
      const sdp = lines(fixture('camara-sdes.sdp')).slice(0, 13).join('\r\n') + '\r\n [...]';
      expectSdpError(() => validateSdp(sdp), /is not of the form <type>=<value>: " \[\.\.\.\]"/);
      expect(parseOffer(sdp, { profile: 'ims', lenient: true }).dropped).toEqual([' [...]']);
    });

    it('drops an unusable m-section with its lines when another remains', () => {
      const sdp = withLines([...lines(SEED), 'm=video 99999 RTP/AVP 96', 'a=rtpmap:96 H264/90000']);
      const r = parseOffer(sdp, { profile: 'passthrough', lenient: true });
      expect(r.sdp).toBe(SEED);
      expect(r.dropped).toEqual(['m=video 99999 RTP/AVP 96', 'a=rtpmap:96 H264/90000']);
    });

    it('still fails without a usable m= line', () => {
      expectSdpError(() => parseOffer(SEED.replace('RTP/AVP', 'RTP/FOO'), { profile: 'passthrough', lenient: true }), 'SDP has no usable m= line');
    });

    it('still enforces the size bounds', () => {
      expectSdpError(() => parseOffer(SEED + 'a=x\r\n'.repeat(20000), { profile: 'passthrough', lenient: true }), /more than the 65536 allowed/);
    });
  });

  describe('ims profile (one test per removal)', () => {
    const ims = (sdp: string): string[] => lines(parseOffer(sdp, { profile: 'ims' }).sdp);
    const base = lines(SEED);

    it('documents a reason for every removal', () => {
      for (const r of IMS_REMOVALS) expect(r.reason.length).toBeGreaterThan(20);
    });

    it('removes a=extmap-allow-mixed at session and media level (RFC 8285 §6)', () => {
      const out = ims(withLines([...base.slice(0, 5), 'a=extmap-allow-mixed', ...base.slice(5), 'a=extmap-allow-mixed']));
      expect(out).toEqual(base);
    });

    it('removes a=msid-semantic (not in RFC 8830)', () => {
      expect(ims(withLines([...base.slice(0, 5), 'a=msid-semantic: WMS abc', ...base.slice(5)]))).toEqual(base);
    });

    it('removes a=x-google-flag', () => {
      expect(ims(withLines([...base, 'a=x-google-flag:conference']))).toEqual(base);
    });

    it('removes the trickle ICE option but keeps other options (RFC 8840 §4.1)', () => {
      expect(ims(withLines([...base, 'a=ice-options:trickle']))).toEqual(base);
      expect(ims(withLines([...base, 'a=ice-options:trickle renomination']))).toEqual([...base, 'a=ice-options:renomination']);
      expect(ims(withLines([...base, 'a=ice-options:renomination']))).toEqual([...base, 'a=ice-options:renomination']);
    });

    it('keeps what media needs: ICE, DTLS, SDES, BUNDLE, rtcp-mux, extmap, ssrc, msid', () => {
      const keep = [
        'a=ice-ufrag:abcd',
        'a=ice-pwd:0123456789abcdefghijklmn',
        'a=candidate:1 1 udp 2122260223 192.0.2.1 49170 typ host',
        'a=end-of-candidates',
        'a=fingerprint:sha-256 AA:BB',
        'a=setup:actpass',
        'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
        'a=mid:0',
        'a=rtcp-mux',
        'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
        'a=ssrc:1 cname:x',
        'a=msid:s t',
        'a=sendrecv',
      ];
      const sdp = withLines([...base.slice(0, 5), 'a=group:BUNDLE 0', ...base.slice(5), ...keep]);
      expect(ims(sdp)).toEqual(lines(sdp));
    });
  });
});

import fc from 'fast-check';
import { parseOffer, SdpProfile } from './sdp.parser';

/** Generated SDPs: random sections, codecs, candidates, noise attributes and line endings. */
const payloadTypes = fc.uniqueArray(fc.integer({ min: 0, max: 127 }), { minLength: 1, maxLength: 6 });
const candidate = fc
  .tuple(fc.nat(99999), fc.constantFrom('udp', 'tcp'), fc.integer({ min: 1, max: 65535 }), fc.constantFrom('host', 'srflx', 'relay'))
  .map(([f, t, port, typ]) => `a=candidate:${f} 1 ${t} 2122260223 192.0.2.${f % 250} ${port} typ ${typ} generation 0 network-id 1`);
const noise = fc.constantFrom(
  'a=extmap-allow-mixed',
  'a=ice-options:trickle',
  'a=ice-options:trickle renomination',
  'a=x-google-flag:conference',
  'a=rtcp-mux',
  'a=sendrecv',
  'a=ssrc:1 cname:abc',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'b=AS:64',
);
const section = fc
  .record({
    media: fc.constantFrom('audio', 'video'),
    port: fc.integer({ min: 0, max: 65535 }),
    proto: fc.constantFrom('RTP/AVP', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVPF'),
    pts: payloadTypes,
    candidates: fc.array(candidate, { maxLength: 5 }),
    extra: fc.array(noise, { maxLength: 4 }),
  })
  .map((s) => [
    `m=${s.media} ${s.port} ${s.proto} ${s.pts.join(' ')}`,
    'c=IN IP4 192.0.2.1',
    ...s.extra,
    ...s.pts.flatMap((pt) => [`a=rtpmap:${pt} codec${pt}/8000`, `a=fmtp:${pt} x=${pt}`, `a=rtcp-fb:${pt} nack`]),
    ...s.candidates,
  ]);
const sdpText = fc
  .record({
    sessionNoise: fc.array(fc.constantFrom('a=msid-semantic: WMS', 'a=extmap-allow-mixed', 'a=group:BUNDLE 0', 'b=AS:128'), { maxLength: 3 }),
    sections: fc.array(section, { minLength: 1, maxLength: 4 }),
    eol: fc.constantFrom('\r\n', '\n', '\r'),
    trailingSpace: fc.constantFrom('', ' ', '\t'),
    trailer: fc.constantFrom('', '\r\n', '\r\n\r\n', '\n  \n', '\0'),
  })
  .map(({ sessionNoise, sections, eol, trailingSpace, trailer }) => {
    const lines = ['v=0', 'o=- 123 1 IN IP4 192.0.2.1', 's=-', 't=0 0', ...sessionNoise, ...sections.flat()];
    return lines.map((l, i) => (i % 3 === 0 ? l + trailingSpace : l)).join(eol) + eol + trailer;
  });

const profiles: SdpProfile[] = ['passthrough', 'ims'];
const grep = (sdp: string, re: RegExp): string[] =>
  sdp
    .split(/\r\n|\r|\n/)
    .map((l) => l.trimEnd())
    .filter((l) => re.test(l));

describe('SDP normalisation properties', () => {
  it.each(profiles)('is idempotent (%s)', (profile) => {
    fc.assert(
      fc.property(sdpText, (text) => {
        const once = parseOffer(text, { profile }).sdp;
        expect(parseOffer(once, { profile }).sdp).toBe(once);
      }),
    );
  });

  it.each(profiles)('keeps every m= line, codec line and candidate, in order (%s)', (profile) => {
    fc.assert(
      fc.property(sdpText, (text) => {
        const out = parseOffer(text, { profile }).sdp;
        for (const re of [/^m=/, /^a=rtpmap:/, /^a=fmtp:/, /^a=rtcp-fb:/, /^a=candidate:/]) {
          expect(grep(out, re)).toEqual(grep(text, re));
        }
      }),
    );
  });

  it.each(profiles)('keeps the payload types of every m-section (%s)', (profile) => {
    fc.assert(
      fc.property(sdpText, (text) => {
        const { session } = parseOffer(text, { profile });
        const expected = grep(text, /^m=/).map((m) => m.split(' ').slice(3).join(' '));
        expect(session.media.map((m) => String(m.payloads))).toEqual(expected);
      }),
    );
  });

  it('uses CRLF only and ends with exactly one CRLF', () => {
    fc.assert(
      fc.property(sdpText, (text) => {
        const out = parseOffer(text, { profile: 'passthrough' }).sdp;
        expect(out.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
        expect(out.endsWith('\r\n') && !out.endsWith('\r\n\r\n')).toBe(true);
      }),
    );
  });

  it('lenient mode accepts what strict mode accepts, identically', () => {
    fc.assert(
      fc.property(sdpText, (text) => {
        const lenient = parseOffer(text, { profile: 'ims', lenient: true });
        expect(lenient.dropped).toEqual([]);
        expect(lenient.sdp).toBe(parseOffer(text, { profile: 'ims' }).sdp);
      }),
    );
  });
});

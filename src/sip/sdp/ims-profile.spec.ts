import { applyImsProfile, IMS_REMOVALS, IMS_REMOVED_ICE_OPTIONS } from './ims-profile';

const doc = (session: string[], ...media: string[][]) => ({ session, media });

describe(applyImsProfile.name, () => {
  it('removes each documented attribute wherever it stands, and reports every removed line in order', () => {
    const { doc: out, removed } = applyImsProfile(
      doc(['v=0', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS s'], ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=x-google-flag:conference', 'a=rtpmap:111 opus/48000/2', 'a=extmap-allow-mixed']),
    );
    expect(out).toEqual(doc(['v=0'], ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2']));
    expect(removed).toEqual(['a=extmap-allow-mixed', 'a=msid-semantic: WMS s', 'a=x-google-flag:conference', 'a=extmap-allow-mixed']);
  });

  it.each<[string, string | undefined]>([
    ['a=ice-options:trickle', undefined],
    ['a=ice-options:trickle renomination', 'a=ice-options:renomination'],
    ['a=ice-options:renomination  trickle ice2', 'a=ice-options:renomination ice2'],
    ['a=ice-options: trickle', undefined],
  ])('drops the trickle token from %j (kept: %j)', (line, kept) => {
    const { doc: out, removed } = applyImsProfile(doc([line], ['m=audio 9 RTP/AVP 0']));
    expect(out.session).toEqual(kept === undefined ? [] : [kept]);
    expect(removed).toEqual([line]);
  });

  it('leaves an ice-options line without trickle exactly as it was (spacing included) and reports nothing', () => {
    const line = 'a=ice-options:renomination  ice2';
    const { doc: out, removed } = applyImsProfile(doc([], ['m=audio 9 RTP/AVP 0', line]));
    expect(out.media).toEqual([['m=audio 9 RTP/AVP 0', line]]);
    expect(removed).toEqual([]);
  });

  it('never touches media lines, codecs, ICE credentials, DTLS or candidates', () => {
    const media = [
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=ice-ufrag:khLS',
      'a=ice-pwd:cxLzteJaJBou3DspNaPsJhlQ',
      'a=fingerprint:sha-256 AB:CD',
      'a=setup:actpass',
      'a=candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host',
      'a=rtpmap:111 opus/48000/2',
      'a=rtcp-mux',
      // not ice-options: its words are no tokens to filter
      'a=x-annotation-of-the-call trickle',
    ];
    const { doc: out, removed } = applyImsProfile(doc(['v=0', 'a=group:BUNDLE 0'], media));
    expect(out).toEqual(doc(['v=0', 'a=group:BUNDLE 0'], media));
    expect(removed).toEqual([]);
  });

  it('documents a reason for every removal', () => {
    for (const r of [...IMS_REMOVALS, ...IMS_REMOVED_ICE_OPTIONS]) expect(r.reason.length).toBeGreaterThan(20);
  });
});

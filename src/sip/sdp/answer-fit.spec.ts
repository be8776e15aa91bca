import { checkAnswerFitsOffer } from './answer-fit';

const sdp = (...m: string[]): string => ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', ...m.flatMap((line) => [line, 'a=sendrecv']), ''].join('\r\n');
const OFFER = sdp('m=audio 49170 UDP/TLS/RTP/SAVPF 111', 'm=video 49172 UDP/TLS/RTP/SAVPF 96');

describe(checkAnswerFitsOffer.name, () => {
  it('accepts an answer with the same m= lines, types and profiles', () => {
    expect(() => checkAnswerFitsOffer(OFFER, sdp('m=audio 5000 UDP/TLS/RTP/SAVPF 111', 'm=video 5002 udp/tls/rtp/savpf 96'))).not.toThrow();
  });
  it('accepts a rejected stream (port 0) whatever its profile', () => {
    expect(() => checkAnswerFitsOffer(OFFER, sdp('m=audio 5000 UDP/TLS/RTP/SAVPF 111', 'm=video 0 RTP/AVP 0'))).not.toThrow();
  });
  it.each([
    ['a missing m= line', sdp('m=audio 5000 UDP/TLS/RTP/SAVPF 111'), /1 m= lines but the offer it answers has 2/],
    ['an extra m= line', sdp('m=audio 5000 UDP/TLS/RTP/SAVPF 111', 'm=video 5002 UDP/TLS/RTP/SAVPF 96', 'm=audio 5004 UDP/TLS/RTP/SAVPF 111'), /3 m= lines/],
    [
      'swapped order',
      sdp('m=video 5002 UDP/TLS/RTP/SAVPF 96', 'm=audio 5000 UDP/TLS/RTP/SAVPF 111'),
      /m= line 1 \("m=video 5002 UDP\/TLS\/RTP\/SAVPF 96"\) is video but the offer's m= line 1 is audio/,
    ],
    [
      'RTP/AVP answering UDP/TLS/RTP/SAVPF',
      sdp('m=audio 5000 RTP/AVP 0', 'm=video 5002 UDP/TLS/RTP/SAVPF 96'),
      /m= line 1 \("m=audio 5000 RTP\/AVP 0"\) uses RTP\/AVP but the offer's m= line 1 uses UDP\/TLS\/RTP\/SAVPF/,
    ],
  ])('refuses %s, naming the line', (_what, answer, message) => {
    expect(() => checkAnswerFitsOffer(OFFER, answer)).toThrow(message);
  });
});

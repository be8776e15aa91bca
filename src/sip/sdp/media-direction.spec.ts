import { adaptAnswerToOffer, answerDirection, getDirection, holdDirection, MediaDirection, resumeDirection, setDirection } from './media-direction';
import { SdpError } from './sdp.error';

const SESSION = ['v=0', 'o=- 8066321617929821805 2 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];
const sdp = (...rest: string[]): string => [...SESSION, ...rest].join('\r\n') + '\r\n';
const AUDIO = ['m=audio 5000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000'];
const VIDEO = ['m=video 5002 RTP/AVP 96', 'a=rtpmap:96 H264/90000'];

describe('media direction', () => {
  describe('getDirection', () => {
    it('defaults to sendrecv (RFC 8866 §6.7)', () => {
      expect(getDirection(sdp(...AUDIO))).toBe('sendrecv');
    });
    it('inherits the session-level attribute', () => {
      const s = sdp(...AUDIO).replace('t=0 0', 't=0 0\r\na=recvonly');
      expect(getDirection(s)).toBe('recvonly');
    });
    it('prefers the media-level attribute', () => {
      const s = sdp(...AUDIO, 'a=inactive', ...VIDEO, 'a=sendonly').replace('t=0 0', 't=0 0\r\na=recvonly');
      expect(getDirection(s, 0)).toBe('inactive');
      expect(getDirection(s, 1)).toBe('sendonly');
    });
    it('throws SdpError for a missing m-section', () => {
      expect(() => getDirection(sdp(...AUDIO), 3)).toThrow(SdpError);
    });
  });

  describe('setDirection', () => {
    it('replaces the media-level attribute in place', () => {
      expect(setDirection(sdp(...AUDIO, 'a=sendrecv', 'a=ptime:20'), 'sendonly')).toBe(sdp(...AUDIO, 'a=sendonly', 'a=ptime:20'));
    });
    it('adds one when there is none', () => {
      expect(setDirection(sdp(...AUDIO), 'inactive')).toBe(sdp(...AUDIO, 'a=inactive'));
    });
    it('moves the session-level attribute to media level', () => {
      const s = sdp(...AUDIO, ...VIDEO).replace('t=0 0', 't=0 0\r\na=recvonly');
      expect(setDirection(s, 'sendonly', 1)).toBe(sdp(...AUDIO, 'a=recvonly', ...VIDEO, 'a=sendonly'));
      expect(setDirection(s, 'sendonly')).toBe(sdp(...AUDIO, 'a=sendonly', ...VIDEO, 'a=sendonly'));
    });
    it('is idempotent', () => {
      const once = setDirection(sdp(...AUDIO, ...VIDEO), 'sendonly');
      expect(setDirection(once, 'sendonly')).toBe(once);
    });
  });

  it.each<[MediaDirection, MediaDirection]>([
    ['sendrecv', 'sendonly'],
    ['recvonly', 'inactive'],
    ['sendonly', 'sendonly'],
    ['inactive', 'inactive'],
  ])('holdDirection(%s) = %s (RFC 3264 §8.4)', (current, held) => {
    expect(holdDirection(current)).toBe(held);
  });

  it.each<[MediaDirection, MediaDirection]>([
    ['sendonly', 'sendrecv'],
    ['inactive', 'recvonly'],
    ['sendrecv', 'sendrecv'],
    ['recvonly', 'recvonly'],
  ])('resumeDirection(%s) = %s', (current, resumed) => {
    expect(resumeDirection(current)).toBe(resumed);
  });

  it.each<[MediaDirection, MediaDirection, MediaDirection]>([
    ['sendrecv', 'sendrecv', 'sendrecv'],
    ['sendrecv', 'sendonly', 'sendonly'],
    ['sendrecv', 'recvonly', 'recvonly'],
    ['sendrecv', 'inactive', 'inactive'],
    ['sendonly', 'sendrecv', 'recvonly'],
    ['sendonly', 'sendonly', 'inactive'],
    ['sendonly', 'recvonly', 'recvonly'],
    ['recvonly', 'sendrecv', 'sendonly'],
    ['recvonly', 'recvonly', 'inactive'],
    ['recvonly', 'sendonly', 'sendonly'],
    ['inactive', 'sendrecv', 'inactive'],
  ])('answerDirection(%s, %s) = %s (RFC 3264 §6.1)', (offer, wanted, answer) => {
    expect(answerDirection(offer, wanted)).toBe(answer);
  });

  describe('adaptAnswerToOffer', () => {
    const local = sdp(...AUDIO, 'a=sendrecv', ...VIDEO);
    const bumped = (s: string): string => s.replace(' 2 IN IP4', ' 3 IN IP4');

    it('answers a hold (sendonly) with recvonly and increments the o= version (RFC 3264 §8)', () => {
      const offer = sdp(...AUDIO, 'a=sendonly', ...VIDEO, 'a=sendonly');
      expect(adaptAnswerToOffer(local, offer)).toBe(bumped(sdp(...AUDIO, 'a=recvonly', ...VIDEO, 'a=recvonly')));
    });

    it('answers a resume with sendrecv', () => {
      const held = adaptAnswerToOffer(local, sdp(...AUDIO, 'a=inactive', ...VIDEO, 'a=inactive'));
      expect(getDirection(held)).toBe('inactive');
      const resumed = adaptAnswerToOffer(held, sdp(...AUDIO, ...VIDEO));
      expect(resumed).toBe(sdp(...AUDIO, 'a=sendrecv', ...VIDEO, 'a=sendrecv').replace(' 2 IN IP4', ' 4 IN IP4'));
    });

    it('respects what we want locally', () => {
      expect(getDirection(adaptAnswerToOffer(local, sdp(...AUDIO, ...VIDEO), 'sendonly'))).toBe('sendonly');
    });

    it('increments versions beyond 2^53 exactly', () => {
      const big = local.replace(' 2 IN IP4', ' 18446744073709551614 IN IP4');
      expect(adaptAnswerToOffer(big, sdp(...AUDIO, ...VIDEO))).toContain('o=- 8066321617929821805 18446744073709551615 IN IP4');
    });

    it('disables streams the offer disabled (RFC 3264 §8.2)', () => {
      const out = adaptAnswerToOffer(local, sdp(...AUDIO, 'm=video 0 RTP/AVP 96'));
      expect(out).toContain('\r\nm=video 0 RTP/AVP 96\r\n');
    });

    it('rejects streams the offer added with port 0 (RFC 3264 §6)', () => {
      const out = adaptAnswerToOffer(local, sdp(...AUDIO, ...VIDEO, 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel'));
      expect(out.endsWith('\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n')).toBe(true);
    });

    it('refuses an offer with fewer m= lines', () => {
      expect(() => adaptAnswerToOffer(local, sdp(...AUDIO))).toThrow(/RFC 3264 §8 forbids removing m= lines/);
    });
  });
});

describe('nextVersion', () => {
  it('increments the o= session version and keeps the rest', () => {
    const { nextVersion } = jest.requireActual<typeof import('./media-direction')>('./media-direction');
    const sdp = 'v=0\r\no=- 8066321617929821805 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n';
    expect(nextVersion(sdp)).toBe(sdp.replace(' 2 IN IP4', ' 3 IN IP4'));
  });
});

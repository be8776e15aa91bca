import { adaptAnswerToOffer, answerDirection, getDirection, nextVersion, setDirection } from './media-direction';
import { SdpError } from './sdp.error';

const SESSION = ['v=0', 'o=- 20518 2 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];
const sdp = (...rest: string[]): string => [...SESSION, ...rest].join('\r\n') + '\r\n';
const AUDIO = 'm=audio 5000 RTP/AVP 0';
const VIDEO = 'm=video 5002 RTP/AVP 96';

/** The SdpError a call throws (fails the test for every other outcome). */
function sdpError(fn: () => unknown): SdpError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SdpError) return e;
    throw new Error(`threw something else than an SdpError: ${String(e)}`, { cause: e });
  }
  throw new Error('did not throw');
}

describe('media direction: refusals name the section', () => {
  it.each<[string, () => unknown, string]>([
    ['reading a section that does not exist', () => getDirection(sdp(AUDIO), 2), 'SDP has no m= section 2 (it has 1)'],
    ['setting a section that does not exist', () => setDirection(sdp(AUDIO, VIDEO), 'inactive', 2), 'SDP has no m= section 2 (it has 2)'],
    ['a new version of an SDP without o= line', () => nextVersion('v=0\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n'), 'SDP has no usable o= line'],
    ['a new version of an SDP whose o= has no numeric version', () => nextVersion('v=0\r\no=- 1 two IN IP4 192.0.2.1\r\ns=-\r\n'), 'SDP has no usable o= line'],
    ['answering an offer with an invalid m= line', () => adaptAnswerToOffer(sdp(AUDIO), sdp('m=audio port RTP/AVP 0')), 'SDP offer m= section 0 has an invalid m= line'],
    ['answering from a previous SDP with an invalid m= line', () => adaptAnswerToOffer(sdp('m=audio port RTP/AVP 0'), sdp(AUDIO)), 'Previous SDP m= section 0 has an invalid m= line'],
  ])('%s', (_, fn, message) => {
    expect(sdpError(fn).message).toBe(message);
  });

  it('sets and reads the sections that exist (positive control)', () => {
    const set = setDirection(sdp(AUDIO, VIDEO), 'inactive', 1);
    expect([getDirection(set, 0), getDirection(set, 1)]).toStrictEqual(['sendrecv', 'inactive']);
  });
});

describe('media direction: one attribute per section (RFC 8866 §6.7)', () => {
  it('replaces the first direction attribute and drops the others', () => {
    expect(setDirection(sdp(AUDIO, 'a=sendrecv', 'a=ptime:20', 'a=recvonly'), 'sendonly')).toBe(sdp(AUDIO, 'a=sendonly', 'a=ptime:20'));
  });

  it('answers with one direction attribute even when our last SDP had two', () => {
    expect(adaptAnswerToOffer(sdp(AUDIO, 'a=sendrecv', 'a=inactive'), sdp(AUDIO, 'a=sendonly'))).toBe(sdp(AUDIO, 'a=recvonly').replace(' 2 IN IP4', ' 3 IN IP4'));
  });
});

describe('answerDirection without a local wish', () => {
  it.each([
    ['sendrecv', 'sendrecv'],
    ['sendonly', 'recvonly'],
    ['recvonly', 'sendonly'],
    ['inactive', 'inactive'],
  ] as const)('answers %s with %s, as if we wanted sendrecv (RFC 3264 §6.1)', (offer, answer) => {
    expect(answerDirection(offer)).toBe(answer);
  });
});

import { ApiError } from '../../common/errors/api-error';
import { SdpError } from '../../sip/sdp';
import { LocationError } from '../location/pidf-lo';
import { emergencyNotSupported, locationErrorToApiError, sdpErrorToApiError, toApiError } from './emergency-errors';
import { planEmergencyInvite } from './emergency-invite';

describe('emergency error mapping', () => {
  it.each([
    [new LocationError('OUT_OF_RANGE', 'locationDetails.coordinates.latitude is 91, outside [-90, 90]'), 400, 'OUT_OF_RANGE', 'locationDetails.coordinates.latitude is 91, outside [-90, 90]'],
    [new LocationError('INVALID_ARGUMENT', 'locationDetails.coordinates is required'), 400, 'INVALID_ARGUMENT', 'locationDetails.coordinates is required'],
    [new SdpError('SDP has no v= line'), 400, 'INVALID_ARGUMENT', 'offer.sdp: SDP has no v= line'],
  ])('%s → %i %s', (err, status, code, message) => {
    const api = toApiError(err);
    expect(api).toBeInstanceOf(ApiError);
    expect(api?.toJSON()).toEqual({ status, code, message });
  });

  it('names another SDP field when asked', () => {
    expect(sdpErrorToApiError(new SdpError('bad'), 'answer.sdp').message).toBe('answer.sdp: bad');
    expect(toApiError(new SdpError('bad'), 'answer.sdp')?.message).toBe('answer.sdp: bad');
  });

  it('keeps the LocationError code and message', () => {
    expect(locationErrorToApiError(new LocationError('OUT_OF_RANGE', 'x')).toJSON()).toEqual({ status: 400, code: 'OUT_OF_RANGE', message: 'x' });
  });

  it('passes an ApiError through and leaves anything else unmapped (500 by the global filter)', () => {
    const api = new ApiError(409, 'INCOMPATIBLE_STATE', 'no');
    expect(toApiError(api)).toBe(api);
    expect(toApiError(new Error('bug'))).toBeUndefined();
    expect(toApiError('string')).toBeUndefined();
  });

  it('renders the CAMARA 501 for disabled emergency calls', () => {
    expect(emergencyNotSupported().toJSON()).toEqual({ status: 501, code: 'CALLTYPE_EMERGENCY_NOT_SUPPORTED', message: 'Server does not support call type EMERGENCY.' });
  });

  it('maps what the planner actually throws', () => {
    const base = {
      serviceUrn: 'urn:service:sos',
      phoneNumber: '+17085852753',
      domain: 'ims.lab',
      originatorAddress: 'tel:+17085852753',
      sdpProfile: 'passthrough',
      identityHeader: 'P-Asserted-Identity',
      now: () => new Date(),
    } as const;
    const caught = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (e) {
        return e;
      }
      throw new Error('expected a throw');
    };
    expect(toApiError(caught(() => planEmergencyInvite({ ...base, offerSdp: 'nonsense' })))?.toJSON()).toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^offer\.sdp: /),
    });
    const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n';
    const e = caught(() => planEmergencyInvite({ ...base, offerSdp: sdp, location: { coordinates: { latitude: 0, longitude: 0, radius: -5 } } }));
    expect(toApiError(e)?.toJSON()).toEqual({ status: 400, code: 'OUT_OF_RANGE', message: expect.stringContaining('locationDetails.coordinates.radius') });
  });
});

import type { MediaSession } from '../store/session-store';
import type { MediaSessionResponse } from './dto/media-session.dto';

/** Stored session → CAMARA `MediaSessionResponse`. */
export function toMediaSessionResponse(s: MediaSession): MediaSessionResponse {
  return {
    mediaSessionId: s.mediaSessionId,
    originatorAddress: s.originatorAddress,
    ...(s.originatorName !== undefined && { originatorName: s.originatorName }),
    receiverAddress: s.receiverAddress,
    ...(s.receiverName !== undefined && { receiverName: s.receiverName }),
    status: s.status,
    offer: { sdp: s.offer },
    ...(s.answer !== undefined && { answer: { sdp: s.answer } }),
    callType: s.callType,
    ...(s.locationDetails !== undefined && { locationDetails: s.locationDetails }),
  };
}

/** Stored session → the `data` of a session-status / session-invitation event (webrtc-events `MediaSession`). */
export function toEventData(s: MediaSession): Record<string, unknown> {
  const { callType: _callType, offer, ...rest } = toMediaSessionResponse(s);
  return {
    ...rest,
    // webrtc-events: the offer is absent for a session the network created with an offerless INVITE
    ...(offer.sdp !== '' && { offer }),
    sequenceNumber: s.sequenceNumber,
    ...(s.sipCode !== undefined && { reason: `SIP ${s.sipCode}${s.sipReason ? ` ${s.sipReason}` : ''}` }),
    ...(s.sipCode === undefined && s.sipReason !== undefined && { reason: s.sipReason }),
  };
}

/** CloudEvent types of the webrtc-events API (CAMARA webrtc-events `type`). */
export const WebrtcEventType = {
  sessionStatus: 'org.camaraproject.webrtc-events.v0.session-status',
  sessionInvitation: 'org.camaraproject.webrtc-events.v0.session-invitation',
  registrationEnds: 'org.camaraproject.webrtc-events.v0.registration-ends',
  subscriptionEnded: 'org.camaraproject.webrtc-events.v0.subscription-ended',
} as const;
export type WebrtcEventType = (typeof WebrtcEventType)[keyof typeof WebrtcEventType];

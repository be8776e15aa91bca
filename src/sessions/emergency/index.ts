/** Emergency and located calls (PIDF-LO): pure planners for the sessions service. */
export { classifyCall, SOS_URN } from './call-classification';
export type { CallClassification, EmergencyTrigger } from './call-classification';
export { planEmergencyInvite, DEFAULT_IDENTITY_HEADER, EMERGENCY_ACCEPT } from './emergency-invite';
export type { EmergencyInviteInput, EmergencyInvitePlan, IdentityHeader } from './emergency-invite';
export { attachLocation, conveyLocation, planLocatedInvite, planLocationUpdate, PIDF_CONTENT_TYPE } from './location-conveyance';
export type { ConveyedLocation, LocationConveyanceOptions, LocationInput, LocationUpdate } from './location-conveyance';
export { emergencyNotSupported, locationErrorToApiError, sdpErrorToApiError, toApiError } from './emergency-errors';

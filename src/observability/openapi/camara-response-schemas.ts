/**
 * Response schemas of the CAMARA WebRTC APIs (webrtc-registration v0.4, webrtc-call-handling v0.4,
 * webrtc-events v0.3), transcribed from their OpenAPI YAML (MediaSessionResponse refers to MediaSessionInformation
 * as the spec does; other $refs resolved), examples left out. Request bodies are NOT here: they are generated from the DTO classes (openapi-document.ts).
 * Regenerate when the CAMARA versions change; the e2e test validates the specs' examples against them.
 */
import { COMMON_RESPONSE_SCHEMAS } from './camara-schemas/camara-common';
import { CALL_HANDLING_RESPONSE_SCHEMAS } from './camara-schemas/webrtc-call-handling';
import { EVENTS_RESPONSE_SCHEMAS } from './camara-schemas/webrtc-events';
import { REGISTRATION_RESPONSE_SCHEMAS } from './camara-schemas/webrtc-registration';

/** Every response schema, by the name the specs give it (one file per API under camara-schemas/). */
export const CAMARA_RESPONSE_SCHEMAS = {
  ...REGISTRATION_RESPONSE_SCHEMAS,
  ...CALL_HANDLING_RESPONSE_SCHEMAS,
  ...EVENTS_RESPONSE_SCHEMAS,
  ...COMMON_RESPONSE_SCHEMAS,
} as const;

/**
 * webrtc-registration v0.4 (CAMARA): response schemas.
 * Transcribed from the OpenAPI YAML (see ../camara-response-schemas.ts).
 */
export const REGISTRATION_RESPONSE_SCHEMAS = {
  RegSessionResponse: {
    description: 'Response body returned after successfully creating or refreshing a WebRTC device registration',
    type: 'object',
    required: ['registrationId'],
    properties: {
      regInfo: {
        description: 'Information about the registered device including phone number and registration status',
        type: 'object',
        properties: {
          phoneNumber: {
            description:
              "A public identifier addressing a telephone subscription. In mobile networks it corresponds to the MSISDN (Mobile Station International Subscriber Directory Number). In order to be globally unique it has to be formatted in international format, according to E.164 standard, prefixed with '+'.",
            type: 'string',
            pattern: '^\\+[1-9][0-9]{4,14}$',
            maxLength: 128,
          },
          regStatus: {
            description: 'Current registration status of the WebRTC device',
            type: 'string',
            enum: ['Registered'],
          },
        },
      },
      registrationId: {
        type: 'string',
        maxLength: 256,
        description: 'The registration session ID is returned when registering a device with the network . Clients must utilize this ID to as a parameter in the call-handling and subscription APIs.',
      },
      expiresAt: {
        type: 'string',
        format: 'date-time',
        maxLength: 64,
        description:
          'Authoritative expiry timestamp calculated **after** applying the\nrefresh logic. Clients MUST treat this value as the new upper-bound\nand schedule their next refresh accordingly.\n\nClient applications should compute the remaining time before expiry (expiresAt - currentTime)\nand plan to refresh well in advance to avoid race conditions. A suggested margin is 120 seconds before expiry.\n\nIt must follow [RFC 3339](https://datatracker.ietf.org/doc/html/rfc3339#section-5.6) and must have time zone.',
      },
    },
  },
} as const;

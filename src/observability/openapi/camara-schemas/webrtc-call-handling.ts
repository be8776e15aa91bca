/**
 * webrtc-call-handling v0.4 (CAMARA): response schemas. MediaSessionResponse refers to MediaSessionInformation as the spec does.
 * Transcribed from the OpenAPI YAML (see ../camara-response-schemas.ts).
 */
export const CALL_HANDLING_RESPONSE_SCHEMAS = {
  MediaSessionResponse: {
    description: 'Representation of a media session resource (POST/PUT/GET response)',
    type: 'object',
    required: ['originatorAddress', 'receiverAddress', 'status', 'offer', 'mediaSessionId'],
    allOf: [
      {
        $ref: '#/components/schemas/MediaSessionInformation',
      },
      {
        type: 'object',
        properties: {
          mediaSessionId: {
            type: 'string',
            maxLength: 256,
            description: 'The media session ID created by the network.',
          },
        },
      },
    ],
  },
  MediaSessionInformation: {
    description: 'Information about a WebRTC media session including originator and receiver identities, SDP offer/answer, and call status',
    type: 'object',
    properties: {
      originatorAddress: {
        type: 'string',
        description:
          'Subscriber address (Sender or Receiver). The following formats are supported: - A TEL URI :\n  - an international format; or\n  - a home local number (as defined in 3GPP TS 24.229 subclause 5.1.2A.1.5) qualified by a `phone-context`\n    parameter identifying the home network numbering plan.\n- A SIP URI :\n  - SIP URI with a generic user part;\n  - SIP URI with a home local number (`user=phone`). The user part MAY contain a home local number qualified by\n    a `phone-context` parameter, in which case the `user=phone` URI parameter SHALL be appended;\n  - an emergency service URN; or\n  - anonymous SIP URI\n\nThe reserved value `sip:anonymous@anonymous.invalid` (as defined in RFC 3323) MAY be used to indicate that the calling party identity is withheld within the trust domain. When `sip:anonymous@anonymous.invalid` is set as the `originatorAddress`, the session SHALL be handled as an anonymous call origination. This value SHALL NOT be used as the `receiverAddress`.',
        pattern:
          '^(tel:\\+[1-9][0-9]{4,14}|tel:[0-9*#]{1,15};phone-context=(?:\\+[1-9][0-9]{0,14}|[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?)+)|sip:[A-Za-z0-9_.!%+\\-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}|sip:[0-9*#]{1,15};phone-context=(?:\\+[1-9][0-9]{0,14}|[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?)+)@[A-Za-z0-9.-]+\\.[A-Za-z]{2,};user=phone|urn:service:sos(?:\\.[a-z0-9](?:[a-z0-9\\-]{0,30}[a-z0-9])?)*|sip:anonymous@anonymous\\.invalid)$',
        maxLength: 256,
      },
      originatorName: {
        type: 'string',
        maxLength: 256,
        description: 'Friendly name of the call originator',
      },
      receiverAddress: {
        type: 'string',
        description:
          'Subscriber address (Sender or Receiver). The following formats are supported: - A TEL URI :\n  - an international format; or\n  - a home local number (as defined in 3GPP TS 24.229 subclause 5.1.2A.1.5) qualified by a `phone-context`\n    parameter identifying the home network numbering plan.\n- A SIP URI :\n  - SIP URI with a generic user part;\n  - SIP URI with a home local number (`user=phone`). The user part MAY contain a home local number qualified by\n    a `phone-context` parameter, in which case the `user=phone` URI parameter SHALL be appended;\n  - an emergency service URN; or\n  - anonymous SIP URI\n\nThe reserved value `sip:anonymous@anonymous.invalid` (as defined in RFC 3323) MAY be used to indicate that the calling party identity is withheld within the trust domain. When `sip:anonymous@anonymous.invalid` is set as the `originatorAddress`, the session SHALL be handled as an anonymous call origination. This value SHALL NOT be used as the `receiverAddress`.',
        pattern:
          '^(tel:\\+[1-9][0-9]{4,14}|tel:[0-9*#]{1,15};phone-context=(?:\\+[1-9][0-9]{0,14}|[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?)+)|sip:[A-Za-z0-9_.!%+\\-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}|sip:[0-9*#]{1,15};phone-context=(?:\\+[1-9][0-9]{0,14}|[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?)+)@[A-Za-z0-9.-]+\\.[A-Za-z]{2,};user=phone|urn:service:sos(?:\\.[a-z0-9](?:[a-z0-9\\-]{0,30}[a-z0-9])?)*|sip:anonymous@anonymous\\.invalid)$',
        maxLength: 256,
      },
      receiverName: {
        type: 'string',
        maxLength: 256,
        description: 'Friendly name of the call terminator',
      },
      status: {
        type: 'string',
        description: 'Provides the status of the media session. During the session creation, this attribute SHALL NOT be included in the request.',
        enum: ['Initial', 'InProgress', 'Ringing', 'Proceeding', 'Connected', 'Terminated', 'Hold', 'Resume', 'SessionCancelled', 'Declined', 'Failed', 'Waiting', 'NoAnswer', 'NotReachable', 'Busy'],
      },
      offer: {
        type: 'object',
        description:
          '**OFFER**: An inlined session description in SDP format [RFC4566].If XML syntax\nis used, the content of this element SHALL be embedded in a CDATA\nsection.\n\n**ANSWER**: This type represents an answer in WebRTC Signaling. This element is not\npresent in case there is no answer yet, or the session invitation has\nbeen declined by the Terminating Participant.This element MUST NOT be\npresent in a request from the application to the server to create a\nsession.',
        properties: {
          sdp: {
            type: 'string',
            maxLength: 65536,
            description: 'An inlined session description in SDP format [RFC4566].If XML syntax is used, the content of this element SHALL be embedded in a CDATA section',
          },
        },
      },
      answer: {
        type: 'object',
        description:
          '**OFFER**: An inlined session description in SDP format [RFC4566].If XML syntax\nis used, the content of this element SHALL be embedded in a CDATA\nsection.\n\n**ANSWER**: This type represents an answer in WebRTC Signaling. This element is not\npresent in case there is no answer yet, or the session invitation has\nbeen declined by the Terminating Participant.This element MUST NOT be\npresent in a request from the application to the server to create a\nsession.',
        properties: {
          sdp: {
            type: 'string',
            maxLength: 65536,
            description: 'An inlined session description in SDP format [RFC4566].If XML syntax is used, the content of this element SHALL be embedded in a CDATA section',
          },
        },
      },
      callType: {
        type: 'string',
        description: 'Type of call. When set to EMERGENCY, the client MAY provide locationDetails. If omitted, treated as REGULAR.',
        enum: ['REGULAR', 'EMERGENCY'],
      },
      locationDetails: {
        description:
          "Location of the party making this request. When provided in `POST /sessions`, it represents the originator's device location. When provided in `PUT /sessions/{mediaSessionId}/status`, it represents the location of the party making the update (either originator or answering party). Providing this information is specific to certain use cases and does not imply a guarantee of any particular server-side action or behavior.",
        allOf: [
          {
            type: 'object',
            description:
              "Details about a party's location and related information. This object adheres to 3GPP TS 24.229, RFC 4119, RFC 5139, and RFC 5491 for PIDF-LO compatibility. Providing this information is specific to certain use cases and does not imply a guarantee of any particular server-side action or behavior.",
            properties: {
              shape: {
                type: 'string',
                enum: ['Circle', 'Ellipsoid'],
                description: "The shape representing the caller's location (Circle or Ellipsoid).",
              },
              coordinates: {
                oneOf: [
                  {
                    description: 'Geographic coordinates defining a circular area by center point and radius',
                    type: 'object',
                    required: ['latitude', 'longitude', 'radius'],
                    properties: {
                      latitude: {
                        type: 'number',
                        format: 'float',
                        description: 'Latitude of the center point in decimal degrees (WGS84).',
                      },
                      longitude: {
                        type: 'number',
                        format: 'float',
                        description: 'Longitude of the center point in decimal degrees (WGS84).',
                      },
                      radius: {
                        type: 'number',
                        format: 'float',
                        description: 'Radius of the circle in meters, indicating the uncertainty.',
                      },
                    },
                  },
                  {
                    description: 'Geographic coordinates defining an ellipsoidal uncertainty area in the WGS84 geocentric coordinate system',
                    type: 'object',
                    required: ['latitude', 'longitude', 'zAxis', 'semiMajorAxis', 'semiMinorAxis', 'verticalAxis', 'orientation'],
                    properties: {
                      latitude: {
                        type: 'number',
                        format: 'float',
                        description: 'Latitude in the WGS 84 geocentric coordinate system.',
                      },
                      longitude: {
                        type: 'number',
                        format: 'float',
                        description: 'Longitude in the WGS 84 geocentric coordinate system.',
                      },
                      zAxis: {
                        type: 'number',
                        format: 'float',
                        description: 'Altitude (optional) in the WGS 84 geocentric coordinate system.',
                      },
                      semiMajorAxis: {
                        type: 'number',
                        description: 'Length of the semi-major axis of the ellipsoid in meters.',
                      },
                      semiMinorAxis: {
                        type: 'number',
                        description: 'Length of the semi-minor axis of the ellipsoid in meters.',
                      },
                      verticalAxis: {
                        type: 'number',
                        description: 'Length of the vertical axis of the ellipsoid in meters.',
                      },
                      orientation: {
                        type: 'number',
                        description: 'Orientation of the ellipsoid in degrees.',
                      },
                    },
                  },
                ],
                description: "The coordinates of the caller's location, specific to the chosen shape.",
              },
              method: {
                type: 'string',
                enum: ['GPS', 'DBH', 'DBH_HELO', 'Other'],
                description:
                  'The method used to obtain the location information.\n* **GPS:** Global Positioning System (highly accurate) * **DBH:** Device-Based Hybrid * **DBH_HELO:** Device-Based Hybrid using Apple Hybridized Emergency Location * **Other:** Other methods (e.g., landmarks, IP Based etc.)\n',
              },
              confidence: {
                type: 'object',
                description: 'The confidence level of the location information.',
                properties: {
                  pdf: {
                    type: 'string',
                    enum: ['normal', 'uniform'],
                    description: 'The probability density function (PDF) associated with the confidence value.',
                  },
                  value: {
                    type: 'number',
                    minimum: 0,
                    maximum: 100,
                    description: 'The confidence value (percentage).',
                  },
                },
              },
              timestamp: {
                type: 'string',
                format: 'date-time',
                maxLength: 64,
                description:
                  'The timestamp (in ISO 8601 format) indicating when the location information was Calculated. \\nThis is crucial for emergency services to assess the timeliness of the data. if not provided current timestamp will be used by default"',
              },
            },
          },
        ],
      },
    },
  },
} as const;

/**
 * Response schemas of the CAMARA WebRTC APIs (webrtc-registration v0.4, webrtc-call-handling v0.4,
 * webrtc-events v0.3), transcribed from their OpenAPI YAML (MediaSessionResponse refers to MediaSessionInformation
 * as the spec does; other $refs resolved), examples left out. Request bodies are NOT here: they are generated from the DTO classes (openapi-document.ts).
 * Regenerate when the CAMARA versions change; the e2e test validates the specs' examples against them.
 */
/* eslint-disable */
export const CAMARA_RESPONSE_SCHEMAS = {
  "RegSessionResponse": {
    "description": "Response body returned after successfully creating or refreshing a WebRTC device registration",
    "type": "object",
    "required": [
      "registrationId"
    ],
    "properties": {
      "regInfo": {
        "description": "Information about the registered device including phone number and registration status",
        "type": "object",
        "properties": {
          "phoneNumber": {
            "description": "A public identifier addressing a telephone subscription. In mobile networks it corresponds to the MSISDN (Mobile Station International Subscriber Directory Number). In order to be globally unique it has to be formatted in international format, according to E.164 standard, prefixed with '+'.",
            "type": "string",
            "pattern": "^\\+[1-9][0-9]{4,14}$",
            "maxLength": 128
          },
          "regStatus": {
            "description": "Current registration status of the WebRTC device",
            "type": "string",
            "enum": [
              "Registered"
            ]
          }
        }
      },
      "registrationId": {
        "type": "string",
        "maxLength": 256,
        "description": "The registration session ID is returned when registering a device with the network . Clients must utilize this ID to as a parameter in the call-handling and subscription APIs."
      },
      "expiresAt": {
        "type": "string",
        "format": "date-time",
        "maxLength": 64,
        "description": "Authoritative expiry timestamp calculated **after** applying the\nrefresh logic. Clients MUST treat this value as the new upper-bound\nand schedule their next refresh accordingly.\n\nClient applications should compute the remaining time before expiry (expiresAt - currentTime)\nand plan to refresh well in advance to avoid race conditions. A suggested margin is 120 seconds before expiry.\n\nIt must follow [RFC 3339](https://datatracker.ietf.org/doc/html/rfc3339#section-5.6) and must have time zone."
      }
    }
  },
  "MediaSessionResponse": {
    "description": "Representation of a media session resource (POST/PUT/GET response)",
    "type": "object",
    "required": [
      "originatorAddress",
      "receiverAddress",
      "status",
      "offer",
      "mediaSessionId"
    ],
    "allOf": [
      {
        "$ref": "#/components/schemas/MediaSessionInformation"
      },
      {
        "type": "object",
        "properties": {
          "mediaSessionId": {
            "type": "string",
            "maxLength": 256,
            "description": "The media session ID created by the network."
          }
        }
      }
    ]
  },
  "MediaSessionInformation": {
    "description": "Information about a WebRTC media session including originator and receiver identities, SDP offer/answer, and call status",
    "type": "object",
    "properties": {
      "originatorAddress": {
        "type": "string",
        "description": "Subscriber address (Sender or Receiver). The following formats are supported: - A TEL URI :\n  - an international format; or\n  - a home local number (as defined in 3GPP TS 24.229 subclause 5.1.2A.1.5) qualified by a `phone-context`\n    parameter identifying the home network numbering plan.\n- A SIP URI :\n  - SIP URI with a generic user part;\n  - SIP URI with a home local number (`user=phone`). The user part MAY contain a home local number qualified by\n    a `phone-context` parameter, in which case the `user=phone` URI parameter SHALL be appended;\n  - an emergency service URN; or\n  - anonymous SIP URI\n\nThe reserved value `sip:anonymous@anonymous.invalid` (as defined in RFC 3323) MAY be used to indicate that the calling party identity is withheld within the trust domain. When `sip:anonymous@anonymous.invalid` is set as the `originatorAddress`, the session SHALL be handled as an anonymous call origination. This value SHALL NOT be used as the `receiverAddress`.",
        "pattern": "^(tel:\\+[1-9][0-9]{4,14}|tel:[0-9*#]{1,15};phone-context=(?:\\+[1-9][0-9]{0,14}|[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?)+)|sip:[A-Za-z0-9_.!%+\\-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}|sip:[0-9*#]{1,15};phone-context=(?:\\+[1-9][0-9]{0,14}|[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?)+)@[A-Za-z0-9.-]+\\.[A-Za-z]{2,};user=phone|urn:service:sos(?:\\.[a-z0-9](?:[a-z0-9\\-]{0,30}[a-z0-9])?)*|sip:anonymous@anonymous\\.invalid)$",
        "maxLength": 256
      },
      "originatorName": {
        "type": "string",
        "maxLength": 256,
        "description": "Friendly name of the call originator"
      },
      "receiverAddress": {
        "type": "string",
        "description": "Subscriber address (Sender or Receiver). The following formats are supported: - A TEL URI :\n  - an international format; or\n  - a home local number (as defined in 3GPP TS 24.229 subclause 5.1.2A.1.5) qualified by a `phone-context`\n    parameter identifying the home network numbering plan.\n- A SIP URI :\n  - SIP URI with a generic user part;\n  - SIP URI with a home local number (`user=phone`). The user part MAY contain a home local number qualified by\n    a `phone-context` parameter, in which case the `user=phone` URI parameter SHALL be appended;\n  - an emergency service URN; or\n  - anonymous SIP URI\n\nThe reserved value `sip:anonymous@anonymous.invalid` (as defined in RFC 3323) MAY be used to indicate that the calling party identity is withheld within the trust domain. When `sip:anonymous@anonymous.invalid` is set as the `originatorAddress`, the session SHALL be handled as an anonymous call origination. This value SHALL NOT be used as the `receiverAddress`.",
        "pattern": "^(tel:\\+[1-9][0-9]{4,14}|tel:[0-9*#]{1,15};phone-context=(?:\\+[1-9][0-9]{0,14}|[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?)+)|sip:[A-Za-z0-9_.!%+\\-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}|sip:[0-9*#]{1,15};phone-context=(?:\\+[1-9][0-9]{0,14}|[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9\\-]*[A-Za-z0-9])?)+)@[A-Za-z0-9.-]+\\.[A-Za-z]{2,};user=phone|urn:service:sos(?:\\.[a-z0-9](?:[a-z0-9\\-]{0,30}[a-z0-9])?)*|sip:anonymous@anonymous\\.invalid)$",
        "maxLength": 256
      },
      "receiverName": {
        "type": "string",
        "maxLength": 256,
        "description": "Friendly name of the call terminator"
      },
      "status": {
        "type": "string",
        "description": "Provides the status of the media session. During the session creation, this attribute SHALL NOT be included in the request.",
        "enum": [
          "Initial",
          "InProgress",
          "Ringing",
          "Proceeding",
          "Connected",
          "Terminated",
          "Hold",
          "Resume",
          "SessionCancelled",
          "Declined",
          "Failed",
          "Waiting",
          "NoAnswer",
          "NotReachable",
          "Busy"
        ]
      },
      "offer": {
        "type": "object",
        "description": "**OFFER**: An inlined session description in SDP format [RFC4566].If XML syntax\nis used, the content of this element SHALL be embedded in a CDATA\nsection.\n\n**ANSWER**: This type represents an answer in WebRTC Signaling. This element is not\npresent in case there is no answer yet, or the session invitation has\nbeen declined by the Terminating Participant.This element MUST NOT be\npresent in a request from the application to the server to create a\nsession.",
        "properties": {
          "sdp": {
            "type": "string",
            "maxLength": 65536,
            "description": "An inlined session description in SDP format [RFC4566].If XML syntax is used, the content of this element SHALL be embedded in a CDATA section"
          }
        }
      },
      "answer": {
        "type": "object",
        "description": "**OFFER**: An inlined session description in SDP format [RFC4566].If XML syntax\nis used, the content of this element SHALL be embedded in a CDATA\nsection.\n\n**ANSWER**: This type represents an answer in WebRTC Signaling. This element is not\npresent in case there is no answer yet, or the session invitation has\nbeen declined by the Terminating Participant.This element MUST NOT be\npresent in a request from the application to the server to create a\nsession.",
        "properties": {
          "sdp": {
            "type": "string",
            "maxLength": 65536,
            "description": "An inlined session description in SDP format [RFC4566].If XML syntax is used, the content of this element SHALL be embedded in a CDATA section"
          }
        }
      },
      "callType": {
        "type": "string",
        "description": "Type of call. When set to EMERGENCY, the client MAY provide locationDetails. If omitted, treated as REGULAR.",
        "enum": [
          "REGULAR",
          "EMERGENCY"
        ]
      },
      "locationDetails": {
        "description": "Location of the party making this request. When provided in `POST /sessions`, it represents the originator's device location. When provided in `PUT /sessions/{mediaSessionId}/status`, it represents the location of the party making the update (either originator or answering party). Providing this information is specific to certain use cases and does not imply a guarantee of any particular server-side action or behavior.",
        "allOf": [
          {
            "type": "object",
            "description": "Details about a party's location and related information. This object adheres to 3GPP TS 24.229, RFC 4119, RFC 5139, and RFC 5491 for PIDF-LO compatibility. Providing this information is specific to certain use cases and does not imply a guarantee of any particular server-side action or behavior.",
            "properties": {
              "shape": {
                "type": "string",
                "enum": [
                  "Circle",
                  "Ellipsoid"
                ],
                "description": "The shape representing the caller's location (Circle or Ellipsoid)."
              },
              "coordinates": {
                "oneOf": [
                  {
                    "description": "Geographic coordinates defining a circular area by center point and radius",
                    "type": "object",
                    "required": [
                      "latitude",
                      "longitude",
                      "radius"
                    ],
                    "properties": {
                      "latitude": {
                        "type": "number",
                        "format": "float",
                        "description": "Latitude of the center point in decimal degrees (WGS84)."
                      },
                      "longitude": {
                        "type": "number",
                        "format": "float",
                        "description": "Longitude of the center point in decimal degrees (WGS84)."
                      },
                      "radius": {
                        "type": "number",
                        "format": "float",
                        "description": "Radius of the circle in meters, indicating the uncertainty."
                      }
                    }
                  },
                  {
                    "description": "Geographic coordinates defining an ellipsoidal uncertainty area in the WGS84 geocentric coordinate system",
                    "type": "object",
                    "required": [
                      "latitude",
                      "longitude",
                      "zAxis",
                      "semiMajorAxis",
                      "semiMinorAxis",
                      "verticalAxis",
                      "orientation"
                    ],
                    "properties": {
                      "latitude": {
                        "type": "number",
                        "format": "float",
                        "description": "Latitude in the WGS 84 geocentric coordinate system."
                      },
                      "longitude": {
                        "type": "number",
                        "format": "float",
                        "description": "Longitude in the WGS 84 geocentric coordinate system."
                      },
                      "zAxis": {
                        "type": "number",
                        "format": "float",
                        "description": "Altitude (optional) in the WGS 84 geocentric coordinate system."
                      },
                      "semiMajorAxis": {
                        "type": "number",
                        "description": "Length of the semi-major axis of the ellipsoid in meters."
                      },
                      "semiMinorAxis": {
                        "type": "number",
                        "description": "Length of the semi-minor axis of the ellipsoid in meters."
                      },
                      "verticalAxis": {
                        "type": "number",
                        "description": "Length of the vertical axis of the ellipsoid in meters."
                      },
                      "orientation": {
                        "type": "number",
                        "description": "Orientation of the ellipsoid in degrees."
                      }
                    }
                  }
                ],
                "description": "The coordinates of the caller's location, specific to the chosen shape."
              },
              "method": {
                "type": "string",
                "enum": [
                  "GPS",
                  "DBH",
                  "DBH_HELO",
                  "Other"
                ],
                "description": "The method used to obtain the location information.\n* **GPS:** Global Positioning System (highly accurate) * **DBH:** Device-Based Hybrid * **DBH_HELO:** Device-Based Hybrid using Apple Hybridized Emergency Location * **Other:** Other methods (e.g., landmarks, IP Based etc.)\n"
              },
              "confidence": {
                "type": "object",
                "description": "The confidence level of the location information.",
                "properties": {
                  "pdf": {
                    "type": "string",
                    "enum": [
                      "normal",
                      "uniform"
                    ],
                    "description": "The probability density function (PDF) associated with the confidence value."
                  },
                  "value": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 100,
                    "description": "The confidence value (percentage)."
                  }
                }
              },
              "timestamp": {
                "type": "string",
                "format": "date-time",
                "maxLength": 64,
                "description": "The timestamp (in ISO 8601 format) indicating when the location information was Calculated. \\nThis is crucial for emergency services to assess the timeliness of the data. if not provided current timestamp will be used by default\""
              }
            }
          }
        ]
      }
    }
  },
  "Subscription": {
    "description": "Represents a event-type subscription.",
    "type": "object",
    "required": [
      "sink",
      "protocol",
      "config",
      "types",
      "id"
    ],
    "properties": {
      "protocol": {
        "type": "string",
        "enum": [
          "HTTP"
        ],
        "description": "Identifier of a delivery protocol. Only HTTP is allowed for now"
      },
      "sink": {
        "type": "string",
        "format": "uri",
        "pattern": "^https:\\/\\/.+$",
        "maxLength": 1024,
        "description": "The address to which events shall be delivered using the selected protocol."
      },
      "types": {
        "description": "Camara Event types eligible to be delivered by this subscription.",
        "type": "array",
        "minItems": 1,
        "maxItems": 1,
        "items": {
          "type": "string",
          "description": "event-type - Event triggered when an event-type event occurred\n- `org.camaraproject.webrtc-events.v0.session-status`\n  - Events triggered for any media session related event (e.g. far end new media endpoints)\n- `org.camaraproject.webrtc-events.v0.session-invitation`\n  - Events triggered for any media endpoint registration event (e.g. incoming session)\n- `org.camaraproject.webrtc-events.v0.registration-ends`\n  - Events triggered for registration termination (e.g. incoming session)\n\n`subscription-ended` is not supported for subscription. It is sent by default",
          "enum": [
            "org.camaraproject.webrtc-events.v0.session-status",
            "org.camaraproject.webrtc-events.v0.session-invitation",
            "org.camaraproject.webrtc-events.v0.registration-ends"
          ]
        }
      },
      "config": {
        "description": "Implementation-specific configuration parameters needed by the subscription manager for acquiring\nevents. `subscriptionExpireTime`, `subscriptionMaxEvents`, `initialEvent` are predefined for CAMARA\nspecifications.\n\nWebRTC specific event type attributes are included into `WebrtcSubscriptionDetail` schema.\n\nFor WebRTC calling subscriptions in this API, developers should use `subscriptionDetail`\nand, optionally, `subscriptionExpireTime`. The predefined CAMARA attributes\n`subscriptionMaxEvents` and `initialEvent` are kept for schema alignment and compatibility,\nbut they are not used for WebRTC calling subscription scenarios.\n\nNote: if a request is performed for several event type, all subscribed event will use same `config`\nparameters.",
        "type": "object",
        "required": [
          "subscriptionDetail"
        ],
        "properties": {
          "subscriptionDetail": {
            "description": "The detail of the requested event subscription.\n- org.camaraproject.webrtc-events.v0.session-invitation requires a\n  `deviceId` related to a valid registration.\n- org.camaraproject.webrtc-events.v0.session-status requires a\n  `deviceId` related to a valid registration.",
            "type": "object",
            "required": [
              "deviceId"
            ],
            "properties": {
              "deviceId": {
                "type": "string",
                "format": "uuid",
                "maxLength": 36,
                "description": "The device-id of the client in UUID format. A unique identifier for\nthe physical device where a registration is initiated. Generated\nby the WebRTC application, and consistent within the same device."
              }
            }
          },
          "subscriptionExpireTime": {
            "type": "string",
            "format": "date-time",
            "maxLength": 64,
            "description": "The subscription expiration time (in date-time format) requested by the API consumer.\nIt must follow [RFC 3339](https://datatracker.ietf.org/doc/html/rfc3339#section-5.6) and must have time zone."
          },
          "subscriptionMaxEvents": {
            "type": "integer",
            "format": "int32",
            "description": "Identifies the maximum number of event reports to be generated (>=1) requested by the API consumer - Once this number is reached, the subscription ends. Up to API project decision to keep it.",
            "minimum": 1,
            "maximum": 1000000
          },
          "initialEvent": {
            "type": "boolean",
            "description": "Set to `true` by API consumer if consumer wants to get an event as soon as the subscription is created and current situation reflects event request.\nExample: Consumer request Roaming event. If consumer sets initialEvent to true and device is in roaming situation, an event is triggered\nUp to API project decision to keep it."
          }
        }
      },
      "id": {
        "type": "string",
        "maxLength": 256,
        "description": "The unique identifier of the subscription in the scope of the subscription manager. When this information is contained within an event notification, this concept SHALL be referred as `subscriptionId` as per [Commonalities Event Notification Model](https://github.com/camaraproject/Commonalities/blob/main/documentation/API-design-guidelines.md#122-event-notification)."
      },
      "startsAt": {
        "type": "string",
        "format": "date-time",
        "maxLength": 64,
        "description": "Date when the event subscription will begin/began\nIt must follow [RFC 3339](https://datatracker.ietf.org/doc/html/rfc3339#section-5.6) and must have time zone.\n"
      },
      "expiresAt": {
        "type": "string",
        "format": "date-time",
        "maxLength": 64,
        "description": "Date when the event subscription will expire. Only provided when `subscriptionExpireTime` is indicated by API client or Telco Operator has specific policy about that.\nIt must follow [RFC 3339](https://datatracker.ietf.org/doc/html/rfc3339#section-5.6) and must have time zone.\n"
      },
      "status": {
        "type": "string",
        "description": "Current status of the subscription - Management of Subscription State engine is not mandatory for now. Note not all statuses may be considered to be implemented. Details:\n  - `ACTIVATION_REQUESTED`: Subscription creation (POST) is triggered but subscription creation process is not finished yet.\n  - `ACTIVE`: Subscription creation process is completed. Subscription is fully operative.\n  - `INACTIVE`: Subscription is temporarily inactive, but its workflow logic is not deleted.\n  - `EXPIRED`: Subscription is ended (no longer active). This status applies when subscription is ended due to `SUBSCRIPTION_EXPIRED` or `ACCESS_TOKEN_EXPIRED` event.\n  - `DELETED`: Subscription is ended as deleted (no longer active). This status applies when subscription information is kept (i.e. subscription workflow is no longer active but its meta-information is kept).",
        "enum": [
          "ACTIVATION_REQUESTED",
          "ACTIVE",
          "EXPIRED",
          "INACTIVE",
          "DELETED"
        ]
      }
    }
  },
  "ErrorInfo": {
    "description": "A structured error response providing details about a failed request, including the HTTP status code, an error code, and a human-readable message",
    "type": "object",
    "required": [
      "status",
      "code",
      "message"
    ],
    "properties": {
      "status": {
        "type": "integer",
        "format": "int32",
        "minimum": 100,
        "maximum": 599,
        "description": "HTTP response status code"
      },
      "code": {
        "type": "string",
        "maxLength": 96,
        "description": "Friendly Code to describe the error"
      },
      "message": {
        "type": "string",
        "maxLength": 512,
        "description": "A human readable description of what the event represent"
      }
    }
  }
} as const;

/**
 * webrtc-events v0.3 (CAMARA): response schemas.
 * Transcribed from the OpenAPI YAML (see ../camara-response-schemas.ts).
 */
export const EVENTS_RESPONSE_SCHEMAS = {
  Subscription: {
    description: 'Represents a event-type subscription.',
    type: 'object',
    required: ['sink', 'protocol', 'config', 'types', 'id'],
    properties: {
      protocol: {
        type: 'string',
        enum: ['HTTP'],
        description: 'Identifier of a delivery protocol. Only HTTP is allowed for now',
      },
      sink: {
        type: 'string',
        format: 'uri',
        pattern: '^https:\\/\\/.+$',
        maxLength: 1024,
        description: 'The address to which events shall be delivered using the selected protocol.',
      },
      types: {
        description: 'Camara Event types eligible to be delivered by this subscription.',
        type: 'array',
        minItems: 1,
        maxItems: 1,
        items: {
          type: 'string',
          description:
            'event-type - Event triggered when an event-type event occurred\n- `org.camaraproject.webrtc-events.v0.session-status`\n  - Events triggered for any media session related event (e.g. far end new media endpoints)\n- `org.camaraproject.webrtc-events.v0.session-invitation`\n  - Events triggered for any media endpoint registration event (e.g. incoming session)\n- `org.camaraproject.webrtc-events.v0.registration-ends`\n  - Events triggered for registration termination (e.g. incoming session)\n\n`subscription-ended` is not supported for subscription. It is sent by default',
          enum: ['org.camaraproject.webrtc-events.v0.session-status', 'org.camaraproject.webrtc-events.v0.session-invitation', 'org.camaraproject.webrtc-events.v0.registration-ends'],
        },
      },
      config: {
        description:
          'Implementation-specific configuration parameters needed by the subscription manager for acquiring\nevents. `subscriptionExpireTime`, `subscriptionMaxEvents`, `initialEvent` are predefined for CAMARA\nspecifications.\n\nWebRTC specific event type attributes are included into `WebrtcSubscriptionDetail` schema.\n\nFor WebRTC calling subscriptions in this API, developers should use `subscriptionDetail`\nand, optionally, `subscriptionExpireTime`. The predefined CAMARA attributes\n`subscriptionMaxEvents` and `initialEvent` are kept for schema alignment and compatibility,\nbut they are not used for WebRTC calling subscription scenarios.\n\nNote: if a request is performed for several event type, all subscribed event will use same `config`\nparameters.',
        type: 'object',
        required: ['subscriptionDetail'],
        properties: {
          subscriptionDetail: {
            description:
              'The detail of the requested event subscription.\n- org.camaraproject.webrtc-events.v0.session-invitation requires a\n  `deviceId` related to a valid registration.\n- org.camaraproject.webrtc-events.v0.session-status requires a\n  `deviceId` related to a valid registration.',
            type: 'object',
            required: ['deviceId'],
            properties: {
              deviceId: {
                type: 'string',
                format: 'uuid',
                maxLength: 36,
                description:
                  'The device-id of the client in UUID format. A unique identifier for\nthe physical device where a registration is initiated. Generated\nby the WebRTC application, and consistent within the same device.',
              },
            },
          },
          subscriptionExpireTime: {
            type: 'string',
            format: 'date-time',
            maxLength: 64,
            description:
              'The subscription expiration time (in date-time format) requested by the API consumer.\nIt must follow [RFC 3339](https://datatracker.ietf.org/doc/html/rfc3339#section-5.6) and must have time zone.',
          },
          subscriptionMaxEvents: {
            type: 'integer',
            format: 'int32',
            description:
              'Identifies the maximum number of event reports to be generated (>=1) requested by the API consumer - Once this number is reached, the subscription ends. Up to API project decision to keep it.',
            minimum: 1,
            maximum: 1000000,
          },
          initialEvent: {
            type: 'boolean',
            description:
              'Set to `true` by API consumer if consumer wants to get an event as soon as the subscription is created and current situation reflects event request.\nExample: Consumer request Roaming event. If consumer sets initialEvent to true and device is in roaming situation, an event is triggered\nUp to API project decision to keep it.',
          },
        },
      },
      id: {
        type: 'string',
        maxLength: 256,
        description:
          'The unique identifier of the subscription in the scope of the subscription manager. When this information is contained within an event notification, this concept SHALL be referred as `subscriptionId` as per [Commonalities Event Notification Model](https://github.com/camaraproject/Commonalities/blob/main/documentation/API-design-guidelines.md#122-event-notification).',
      },
      startsAt: {
        type: 'string',
        format: 'date-time',
        maxLength: 64,
        description: 'Date when the event subscription will begin/began\nIt must follow [RFC 3339](https://datatracker.ietf.org/doc/html/rfc3339#section-5.6) and must have time zone.\n',
      },
      expiresAt: {
        type: 'string',
        format: 'date-time',
        maxLength: 64,
        description:
          'Date when the event subscription will expire. Only provided when `subscriptionExpireTime` is indicated by API client or Telco Operator has specific policy about that.\nIt must follow [RFC 3339](https://datatracker.ietf.org/doc/html/rfc3339#section-5.6) and must have time zone.\n',
      },
      status: {
        type: 'string',
        description:
          'Current status of the subscription - Management of Subscription State engine is not mandatory for now. Note not all statuses may be considered to be implemented. Details:\n  - `ACTIVATION_REQUESTED`: Subscription creation (POST) is triggered but subscription creation process is not finished yet.\n  - `ACTIVE`: Subscription creation process is completed. Subscription is fully operative.\n  - `INACTIVE`: Subscription is temporarily inactive, but its workflow logic is not deleted.\n  - `EXPIRED`: Subscription is ended (no longer active). This status applies when subscription is ended due to `SUBSCRIPTION_EXPIRED` or `ACCESS_TOKEN_EXPIRED` event.\n  - `DELETED`: Subscription is ended as deleted (no longer active). This status applies when subscription information is kept (i.e. subscription workflow is no longer active but its meta-information is kept).',
        enum: ['ACTIVATION_REQUESTED', 'ACTIVE', 'EXPIRED', 'INACTIVE', 'DELETED'],
      },
    },
  },
} as const;

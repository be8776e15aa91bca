/**
 * CAMARA_common.yaml: the error body every API returns.
 * Transcribed from the OpenAPI YAML (see ../camara-response-schemas.ts).
 */
export const COMMON_RESPONSE_SCHEMAS = {
  ErrorInfo: {
    description: 'A structured error response providing details about a failed request, including the HTTP status code, an error code, and a human-readable message',
    type: 'object',
    required: ['status', 'code', 'message'],
    properties: {
      status: {
        type: 'integer',
        format: 'int32',
        minimum: 100,
        maximum: 599,
        description: 'HTTP response status code',
      },
      code: {
        type: 'string',
        maxLength: 96,
        description: 'Friendly Code to describe the error',
      },
      message: {
        type: 'string',
        maxLength: 512,
        description: 'A human readable description of what the event represent',
      },
    },
  },
} as const;

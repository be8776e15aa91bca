import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { IS_RFC_3339, EQUALS, ValidationTypes } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
// The DTO modules register their class-validator metadata when imported.
import { RegSessionRequest, RegSessionUpdate } from '../../registrations/dto/reg-session.dto';
import { MediaSessionCreate, MediaSessionStatusChange, WrtcSdpDescriptor } from '../../sessions/dto/media-session.dto';
import { SubscriptionRequest, SubscriptionUpdateRequest } from '../../events/dto/subscription-request.dto';
import { CAMARA_RESPONSE_SCHEMAS } from './camara-response-schemas';

export type JsonSchema = Record<string, unknown>;
export interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  servers: Array<{ url: string; description?: string }>;
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
}

/** The request DTOs (owned by the feature modules) whose class-validator rules become schemas. */
export const REQUEST_DTOS = [RegSessionRequest, RegSessionUpdate, MediaSessionCreate, MediaSessionStatusChange, WrtcSdpDescriptor, SubscriptionRequest, SubscriptionUpdateRequest] as const;

const FORBIDDEN = { not: {} };

/**
 * JSON Schemas of the request DTOs, generated from their class-validator metadata (so they cannot
 * drift from what the validation pipe enforces), with the few decorators the generator does not
 * know mapped by hand.
 */
export function requestSchemas(): Record<string, JsonSchema> {
  const all = validationMetadatasToSchemas({
    classTransformerMetadataStorage: defaultMetadataStorage,
    refPointerPrefix: '#/components/schemas/',
    additionalConverters: {
      [IS_RFC_3339]: { type: 'string', format: 'date-time' },
      // `@Equals(undefined)`: the property must be absent (CAMARA: no answer on create).
      [EQUALS]: (meta: ValidationMetadata) => (meta.constraints?.[0] === undefined ? FORBIDDEN : { const: meta.constraints[0] as unknown }),
      [ValidationTypes.CUSTOM_VALIDATION]: {},
    },
  }) as Record<string, JsonSchema>;
  const out: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(all)) out[name] = tidy(schema);
  return out;
}

/** OpenAPI 3.0 ignores siblings of `$ref`; a forbidden property is not required. */
function tidy(schema: JsonSchema): JsonSchema {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const forbidden = new Set<string>();
  const properties: Record<string, JsonSchema> = {};
  for (const [k, p] of Object.entries(props)) {
    if (typeof p.$ref === 'string') properties[k] = { $ref: p.$ref };
    else properties[k] = p;
    if (JSON.stringify(p) === JSON.stringify(FORBIDDEN)) forbidden.add(k);
  }
  const required = Array.isArray(schema.required) ? (schema.required as string[]).filter((r) => !forbidden.has(r)) : undefined;
  const { required: _r, properties: _p, ...rest } = schema;
  return { ...rest, properties, ...(required && required.length > 0 ? { required } : {}) };
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema): Record<string, unknown> => ({ 'application/json': { schema } });
const errors = (...codes: number[]): Record<string, unknown> =>
  Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? 'Error', headers: CORRELATOR_HEADER, content: json(ref('ErrorInfo')) }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid argument',
  401: 'Unauthenticated',
  403: 'Permission denied',
  404: 'Not found',
  409: 'Conflict',
  422: 'Unprocessable',
  429: 'Too many requests',
  501: 'Not implemented',
  503: 'Service unavailable',
};
const CORRELATOR_HEADER = { 'x-correlator': { description: 'Correlation id, echoed from the request or generated.', schema: ref('XCorrelator') } };
const CORRELATOR_PARAM = { name: 'x-correlator', in: 'header', required: false, schema: ref('XCorrelator') };
const pathParam = (name: string): Record<string, unknown> => ({ name, in: 'path', required: true, schema: { type: 'string', maxLength: 256 } });
const ok = (code: number, description: string, schema?: JsonSchema): Record<string, unknown> => ({
  [String(code)]: { description, headers: CORRELATOR_HEADER, ...(schema ? { content: json(schema) } : {}) },
});
const secured = (tag: string, operationId: string, summary: string, scopes: string[]): Record<string, unknown> => ({
  tags: [tag],
  operationId,
  summary,
  security: [{ openId: scopes }],
});

function camaraPaths(): Record<string, Record<string, unknown>> {
  const reg = '/webrtc-registration/v0.4/sessions';
  const calls = '/webrtc-call-handling/v0.4/sessions';
  const subs = '/webrtc-events/v0.3/subscriptions';
  const R = 'webrtc-registration';
  const C = 'webrtc-call-handling';
  const E = 'webrtc-events';
  const createSession = (operationId: string, summary: string): Record<string, unknown> => ({
    ...secured(C, operationId, summary, ['webrtc-call-handling:sessions:create']),
    parameters: [CORRELATOR_PARAM, { name: 'registrationId', in: 'header', required: true, description: 'The registration the call belongs to.', schema: { type: 'string', maxLength: 256 } }],
    requestBody: { required: true, content: json(ref('MediaSessionCreate')) },
    responses: { ...ok(201, 'Session created; the INVITE is on its way.', ref('MediaSessionResponse')), ...errors(400, 401, 403, 501, 503) },
  });
  return {
    [reg]: {
      get: {
        ...secured(R, 'getRegistrationsByDeviceId', 'Registrations of a device', ['webrtc-registration:sessions:read']),
        parameters: [CORRELATOR_PARAM, { name: 'deviceId', in: 'query', required: true, schema: { type: 'string', format: 'uuid' } }],
        responses: { ...ok(200, 'The device registrations.', { type: 'array', items: ref('RegSessionResponse') }), ...errors(400, 401, 403, 503) },
      },
      post: {
        ...secured(R, 'createRegistration', 'Register a device (SIP REGISTER)', ['webrtc-registration:sessions:create']),
        parameters: [CORRELATOR_PARAM],
        requestBody: { required: true, content: json(ref('RegSessionRequest')) },
        responses: { ...ok(201, 'Registered.', ref('RegSessionResponse')), ...errors(400, 401, 403, 409, 503) },
      },
    },
    [`${reg}/{registrationId}`]: {
      parameters: [pathParam('registrationId'), CORRELATOR_PARAM],
      get: {
        ...secured(R, 'getRegistrationById', 'One registration', ['webrtc-registration:sessions:read']),
        responses: { ...ok(200, 'The registration.', ref('RegSessionResponse')), ...errors(400, 401, 403, 404, 503) },
      },
      put: {
        ...secured(R, 'updateRegistrationById', 'Extend a registration', ['webrtc-registration:sessions:write']),
        requestBody: { required: false, content: json(ref('RegSessionUpdate')) },
        responses: { ...ok(200, 'Refreshed.', ref('RegSessionResponse')), ...ok(204, 'Refreshed (no body).'), ...errors(400, 401, 403, 404, 503) },
      },
      delete: {
        ...secured(R, 'deleteRegistrationById', 'Remove a registration (REGISTER Expires: 0)', ['webrtc-registration:sessions:delete']),
        responses: { ...ok(204, 'Removed.'), ...errors(400, 401, 403, 404, 503) },
      },
    },
    [calls]: { post: createSession('createSession', 'Start a call (SIP INVITE)') },
    '/webrtc/sessions': { post: { ...createSession('createSessionSeed', 'Start a call: seed path, same as POST /webrtc-call-handling/v0.4/sessions'), tags: [C, 'seed'] } },
    [`${calls}/{mediaSessionId}`]: {
      parameters: [pathParam('mediaSessionId'), CORRELATOR_PARAM],
      get: {
        ...secured(C, 'getSessionDetailsById', 'One session', ['webrtc-call-handling:sessions:read']),
        responses: { ...ok(200, 'The session.', ref('MediaSessionResponse')), ...errors(400, 401, 403, 404, 503) },
      },
      delete: {
        ...secured(C, 'deleteSessionById', 'End a session (CANCEL or BYE)', ['webrtc-call-handling:sessions:delete']),
        responses: { ...ok(204, 'Ended.'), ...errors(400, 401, 403, 404, 503) },
      },
    },
    [`${calls}/{mediaSessionId}/status`]: {
      parameters: [pathParam('mediaSessionId'), CORRELATOR_PARAM],
      put: {
        ...secured(C, 'updateSessionStatus', 'Answer, ring, hold, resume', ['webrtc-call-handling:sessions:write']),
        requestBody: { required: true, content: json(ref('MediaSessionStatusChange')) },
        responses: { ...ok(200, 'Updated.', ref('MediaSessionResponse')), ...ok(204, 'Updated (no body).'), ...errors(400, 401, 403, 404, 409, 503) },
      },
    },
    [subs]: {
      post: {
        ...secured(E, 'createNotificationChannelSubscription', 'Subscribe to session and registration events', [
          'webrtc-events:org.camaraproject.webrtc-events.v0.session-status:create',
          'webrtc-events:org.camaraproject.webrtc-events.v0.session-invitation:create',
          'webrtc-events:org.camaraproject.webrtc-events.v0.registration-ends:create',
        ]),
        parameters: [CORRELATOR_PARAM],
        requestBody: { required: true, content: json(ref('SubscriptionRequest')) },
        responses: { ...ok(201, 'Subscribed.', ref('Subscription')), ...errors(400, 401, 403, 409, 422, 429, 503) },
      },
      get: {
        ...secured(E, 'retrieveNotificationChannelSubscriptionList', 'List subscriptions', ['webrtc-events:read']),
        parameters: [CORRELATOR_PARAM],
        responses: { ...ok(200, 'The subscriptions.', { type: 'array', items: ref('Subscription') }), ...errors(400, 401, 403, 503) },
      },
    },
    [`${subs}/{subscriptionId}`]: {
      parameters: [pathParam('subscriptionId'), CORRELATOR_PARAM],
      get: {
        ...secured(E, 'retrieveNotificationChannelSubscription', 'One subscription', ['webrtc-events:read']),
        responses: { ...ok(200, 'The subscription.', ref('Subscription')), ...errors(400, 401, 403, 404, 503) },
      },
      put: {
        ...secured(E, 'updateNotificationChannelSubscription', 'Update a subscription', ['webrtc-events:update']),
        requestBody: { required: true, content: json(ref('SubscriptionUpdateRequest')) },
        responses: { ...ok(200, 'Updated.', ref('Subscription')), ...errors(400, 401, 403, 404, 422, 429, 503) },
      },
      delete: { ...secured(E, 'deleteNotificationChannelSubscription', 'Delete a subscription', ['webrtc-events:delete']), responses: { ...ok(204, 'Deleted.'), ...errors(400, 401, 403, 404, 503) } },
    },
  };
}

function operationsPaths(): Record<string, Record<string, unknown>> {
  const text = (type: string, description: string): Record<string, unknown> => ({ '200': { description, content: { [type]: { schema: { type: 'string' } } } } });
  const health = {
    description: 'Terminus health report',
    content: json({
      type: 'object',
      properties: { status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] }, info: { type: 'object' }, error: { type: 'object' }, details: { type: 'object' } },
    }),
  };
  const op = (operationId: string, summary: string, responses: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    get: { tags: ['operations'], operationId, summary, security: [], responses, ...extra },
  });
  return {
    '/metrics': op('getMetrics', 'Prometheus metrics (scrape on the internal network only)', text('text/plain', 'Prometheus text exposition format 0.0.4')),
    '/health/live': op('getLiveness', 'Liveness: the process serves HTTP', { '200': health }),
    '/health/ready': op('getReadiness', 'Readiness: store, SIP socket and outbound proxy (cached OPTIONS)', {
      '200': health,
      '503': { ...health, description: 'Not ready: `error` names the failed part' },
    }),
    '/dashboard': op('getDashboard', 'Live call-setup dashboard (HTML page; holds no data)', text('text/html', 'The page')),
    '/dashboard/app.js': op('getDashboardScript', 'Dashboard script', text('text/javascript', 'Script')),
    '/dashboard/app.css': op('getDashboardStyles', 'Dashboard styles', text('text/css', 'Styles')),
    '/dashboard/vendor/{file}': op(
      'getDashboardVendorAsset',
      'Chart library served from node_modules (uPlot)',
      { ...text('application/octet-stream', 'The file'), ...errors(404) },
      { parameters: [pathParam('file')] },
    ),
    '/dashboard/data': {
      get: {
        tags: ['operations'],
        operationId: 'getDashboardData',
        summary: 'Dashboard data (admin token or scope gateway:dashboard:read)',
        security: [{ adminToken: [] }, { openId: ['gateway:dashboard:read'] }],
        responses: { '200': { description: 'Snapshot', content: json({ type: 'object' }) }, ...errors(401, 403) },
      },
    },
    '/openapi.json': op('getOpenApi', 'This document', { '200': { description: 'OpenAPI 3.0', content: json({ type: 'object' }) } }),
    '/docs': op('getSwaggerUi', 'Swagger UI', text('text/html', 'The page')),
    '/docs/{file}': op('getSwaggerUiAsset', 'Swagger UI assets served from node_modules', { ...text('application/octet-stream', 'The file'), ...errors(404) }, { parameters: [pathParam('file')] }),
  };
}

/** The OpenAPI 3.0 description of everything the gateway serves. Built once; pure. */
export function buildOpenApiDocument(): OpenApiDocument {
  const responseSchemas = CAMARA_RESPONSE_SCHEMAS as unknown as Record<string, JsonSchema>;
  return {
    openapi: '3.0.3',
    info: {
      title: 'CAMARA WebRTC SIP gateway',
      version: '0.1.0',
      description:
        'CAMARA webrtc-registration v0.4, webrtc-call-handling v0.4 (plus the seed path POST /webrtc/sessions) and webrtc-events v0.3, ' +
        "bridged to an IMS core over SIP; and the gateway's operations endpoints. Request schemas are generated from the validation rules the gateway enforces.",
      license: { name: 'Apache 2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0.html' },
    },
    servers: [{ url: '/', description: 'this gateway' }],
    tags: [
      { name: 'webrtc-registration', description: 'Device registrations (SIP REGISTER)' },
      { name: 'webrtc-call-handling', description: 'Media sessions (SIP INVITE dialogs)' },
      { name: 'webrtc-events', description: 'Event subscriptions (CloudEvents webhooks)' },
      { name: 'seed', description: 'Seed paths kept for early clients' },
      { name: 'operations', description: 'Health, metrics, dashboard, this document' },
    ],
    paths: { ...camaraPaths(), ...operationsPaths() },
    components: {
      schemas: {
        ...requestSchemas(),
        ...responseSchemas,
        XCorrelator: { type: 'string', pattern: '^[a-zA-Z0-9-_:;./<>{}]{0,256}$', example: 'b4333c46-49c0-4f62-80d7-f0ef930f1c46' },
      },
      securitySchemes: {
        openId: { type: 'openIdConnect', openIdConnectUrl: 'https://example.com/.well-known/openid-configuration', description: 'CAMARA access token (JWT, verified against AUTH_JWKS_URL).' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN of the gateway (operations only).' },
      },
    },
  };
}

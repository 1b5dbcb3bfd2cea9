// The OpenAPI descriptions of the prebuilt routers other than crudRouter: auth, audit, policy and principal admin.
import { createQueryCompiler } from '../../src/filter/compile.js';
import type { SchemaInput } from '../../src/filter/schema.js';
import { filterParameters, readableCapabilities } from '../../src/openapi/parameters.js';
import { BODY_CODES, mergeCodes, type ProblemCodes } from '../../src/openapi/problems.js';
import type { JsonSchema, OpenApiOperation, OpenApiParameter, OpenApiResponse } from '../../src/openapi/types.js';
import { operation as op } from '../../src/openapi/operation.js';
import type { Describer } from './describe.js';

const JSON_TYPE = 'application/json';

function json(schema: JsonSchema): Record<string, { schema: JsonSchema }> {
  return { [JSON_TYPE]: { schema } };
}

function ok(description: string, schema: JsonSchema, status = 200): Record<string, OpenApiResponse> {
  return { [status]: { description, content: json(schema) } };
}

const NO_CONTENT: Record<string, OpenApiResponse> = { 204: { description: 'Done.' } };

function body(schema: JsonSchema): OpenApiOperation['requestBody'] {
  return { required: true, content: json(schema) };
}

function pathParameter(name: string, description?: string): OpenApiParameter {
  return { name, in: 'path', required: true, schema: { type: 'string' }, ...(description ? { description } : {}) };
}

const object = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
});
const items = (schema: JsonSchema): JsonSchema => object({ items: { type: 'array', items: schema } }, ['items']);
const string: JsonSchema = { type: 'string' };
const time: JsonSchema = { type: 'string', format: 'date-time' };

// ---- auth ----

const session = object(
  {
    id: string,
    createdAt: time,
    lastSeenAt: time,
    expiresAt: time,
    meta: object({ ip: string, userAgent: string }),
    current: { type: 'boolean' },
  },
  ['id', 'createdAt', 'lastSeenAt', 'expiresAt', 'current'],
);

export function describeAuthRouter(options: { loginLimited: boolean }): Describer {
  const tag = 'auth';
  const description = {
    tags: [{ name: tag, description: 'Log in and out, your sessions, who you are and what you may call.' }],
    paths: {
      '/login': {
        post: op(
          tag,
          'auth.login',
          'Log in with a username and password: a bearer token bound to a new session',
          ok(
            'Logged in.',
            object({ token: string, tokenType: { const: 'Bearer' }, sessionId: string, expiresAt: time }, [
              'token',
              'tokenType',
              'sessionId',
              'expiresAt',
            ]),
            201,
          ),
          mergeCodes(
            {
              400: ['validation'],
              401: ['authentication.login_failed'],
              429: ['rate_limited.failures', ...(options.loginLimited ? ['rate_limited'] : [])],
            },
            BODY_CODES,
          ),
          {
            security: [],
            requestBody: body(
              object(
                {
                  username: { type: 'string', minLength: 1, maxLength: 128 },
                  password: { type: 'string', minLength: 1, maxLength: 1024 },
                },
                ['username', 'password'],
              ),
            ),
          },
        ),
      },
      '/logout': {
        post: op(tag, 'auth.logout', 'End the session of this token', NO_CONTENT, { 400: ['validation.no_session'] }),
      },
      '/sessions': {
        get: op(tag, 'auth.sessions.list', 'Your live sessions', ok('Sessions.', items(session)), {}),
        delete: op(
          tag,
          'auth.sessions.revokeAll',
          'End all your sessions',
          ok('How many ended.', object({ revoked: { type: 'integer', minimum: 0 } }, ['revoked'])),
          {},
        ),
      },
      '/sessions/{id}': {
        parameters: [pathParameter('id')],
        delete: op(tag, 'auth.sessions.revoke', 'End one of your sessions', NO_CONTENT, { 404: ['not_found'] }),
      },
      '/me': {
        get: op(
          tag,
          'auth.me',
          'Who you are and your effective permissions',
          ok('You.', object({ principal: { type: 'object' }, permissions: { type: 'object' } }, ['principal'])),
          {},
        ),
      },
      '/me/has-permission': {
        post: op(
          tag,
          'auth.hasPermission',
          'Whether your permitted endpoints allow a call',
          ok(
            'The answer.',
            object({ method: string, path: string, allowed: { type: 'boolean' } }, ['method', 'path', 'allowed']),
          ),
          mergeCodes({ 400: ['validation'] }, BODY_CODES),
          {
            requestBody: body(object({ method: string, path: { type: 'string', pattern: '^/' } }, ['method', 'path'])),
          },
        ),
      },
    },
  };
  return () => description;
}

// ---- audit ----

export function describeAuditRouter(options: {
  schema: SchemaInput;
  compilerOptions: { idField: string; maxLimit: number; resource: string };
  defaultLimit: number;
  maxLimit: number;
  guarded: boolean;
}): Describer {
  const tag = 'audit';
  const compiler = createQueryCompiler({ ...options.compilerOptions, schema: options.schema });
  const parameters: Record<string, OpenApiParameter> = {};
  for (const capability of readableCapabilities(compiler, new Set())) {
    for (const parameter of filterParameters(capability, compiler.limits.maxListLength)) {
      parameters[`audit.${parameter.name}`] = parameter;
    }
  }
  const filters = Object.keys(parameters).map((name) => ({ $ref: `#/components/parameters/${name}` }));
  const controls: OpenApiParameter[] = [
    {
      name: 'limit',
      in: 'query',
      description: 'Page size.',
      schema: { type: 'integer', minimum: 1, maximum: options.maxLimit, default: options.defaultLimit },
    },
    { name: 'cursor', in: 'query', description: "The previous page's `nextCursor`.", schema: string },
    { name: 'from', in: 'query', description: 'Events at or after this time.', schema: time },
    { name: 'to', in: 'query', description: 'Events before this time.', schema: time },
    { name: 'order', in: 'query', description: 'By time. Default newest first.', schema: { enum: ['asc', 'desc'] } },
  ];
  const event: JsonSchema = {
    type: 'object',
    description: 'An audit event, masked (see docs/audit.md for its fields).',
    properties: { id: string, time, action: string, resource: string, resourceId: string, outcome: string },
  };
  const guard: ProblemCodes = options.guarded ? { 403: ['forbidden.policy', 'forbidden.scope'] } : {};
  const page = ok(
    'A page of events.',
    object({ items: { type: 'array', items: event }, nextCursor: { type: ['string', 'null'] } }, [
      'items',
      'nextCursor',
    ]),
  );
  const listCodes = mergeCodes(guard, {
    400: [
      'validation',
      'filter.unknown_field',
      'filter.unknown_operator',
      'filter.unsupported_operator',
      'filter.invalid_value',
      'filter.forbidden_key',
      'filter.too_large',
      'filter.invalid_cursor',
    ],
  });
  const list = (id: string, summary: string) =>
    op(tag, id, summary, page, listCodes, { parameters: [...filters, ...controls] });
  const description = {
    parameters,
    tags: [{ name: tag, description: 'Audit events, masked, and the history of records.' }],
    paths: {
      '/events': { get: list('audit.events.list', 'List audit events (filters, time range, cursor paging)') },
      '/events/{id}': {
        parameters: [pathParameter('id')],
        get: op(
          tag,
          'audit.events.get',
          'Read one audit event',
          ok('The event.', event),
          mergeCodes(guard, { 400: ['validation'], 404: ['not_found'] }),
        ),
      },
      '/actors/{actor}/events': {
        parameters: [pathParameter('actor', 'A principal id.')],
        get: list('audit.actors.events', "One actor's events"),
      },
      '/actions/{action}/events': {
        parameters: [pathParameter('action')],
        get: list('audit.actions.events', "One action's events"),
      },
      '/resources/{resource}/{id}/events': {
        parameters: [pathParameter('resource'), pathParameter('id')],
        get: list('audit.resources.events', 'Every event about one record'),
      },
      '/history/{resource}/{id}': {
        parameters: [pathParameter('resource'), pathParameter('id')],
        get: op(
          tag,
          'audit.history',
          "A record's state after each change, newest first",
          ok('States.', items({ type: 'object' })),
          mergeCodes(guard, { 400: ['validation'], 404: ['not_found'] }),
        ),
      },
    },
  };
  return () => description;
}

// ---- policy admin ----

export function describePolicyAdminRouter(options: { maxLimit: number }): Describer {
  const tag = 'policies';
  const policy: JsonSchema = {
    type: 'object',
    description: 'A policy in the JSON format of docs/abac.md (a superset of vakt `to_json`).',
    properties: {
      uid: string,
      description: string,
      effect: { enum: ['allow', 'deny'] },
      subjects: { type: 'array' },
      resources: { type: 'array' },
      actions: { type: 'array' },
      context: { type: 'object' },
    },
  };
  const uid: OpenApiParameter = {
    name: 'uid',
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
  };
  const write: ProblemCodes = { 401: ['authentication.required'], 403: ['forbidden.escalation'] };
  const description = {
    tags: [{ name: tag, description: 'ABAC policies; writes need a full administrator.' }],
    paths: {
      '/policies': {
        get: op(
          tag,
          'policies.list',
          'List policies',
          ok(
            'A page of policies.',
            object(
              { items: { type: 'array', items: policy }, limit: { type: 'integer' }, offset: { type: 'integer' } },
              ['items', 'limit', 'offset'],
            ),
          ),
          { 400: ['validation'] },
          {
            parameters: [
              {
                name: 'limit',
                in: 'query',
                schema: { type: 'integer', minimum: 1, maximum: options.maxLimit, default: 100 },
              },
              { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
            ],
          },
        ),
      },
      '/policies/{uid}': {
        parameters: [uid],
        get: op(tag, 'policies.get', 'Read a policy', ok('The policy.', policy), {
          400: ['validation'],
          404: ['not_found'],
        }),
        put: op(
          tag,
          'policies.put',
          'Create (201) or replace (200) a policy',
          { ...ok('Replaced.', policy), ...ok('Created.', policy, 201) },
          mergeCodes(write, { 400: ['validation', 'abac.invalid_policy'] }, BODY_CODES),
          { requestBody: body(policy) },
        ),
        delete: op(
          tag,
          'policies.delete',
          'Delete a policy',
          NO_CONTENT,
          mergeCodes(write, { 400: ['validation'], 404: ['not_found'] }),
        ),
      },
    },
  };
  return () => description;
}

// ---- principal admin ----

const GRANTS: Record<string, JsonSchema> = {
  permittedEndpoints: { type: 'array', items: object({ method: string, path: string }, ['method', 'path']) },
  filterFields: { type: 'array', items: { type: 'object' } },
  excludeFields: { type: 'array', items: string },
  updateFieldsPermitted: { type: 'array', items: string },
  updateFieldsRestricted: { type: 'array', items: string },
  admin: { type: 'boolean' },
};

export function describePrincipalAdminRouter(): Describer {
  const tag = 'principals';
  const principalInput = {
    type: 'object',
    properties: {
      type: { enum: ['user', 'oidcGroup'] },
      name: string,
      email: string,
      groups: { type: 'array', items: string },
      attributes: { type: 'object' },
      disabled: { type: 'boolean' },
      quotas: { type: 'object' },
      ...GRANTS,
      password: { type: 'string', minLength: 8, maxLength: 1024 },
    },
    additionalProperties: false,
  };
  const principal = {
    type: 'object',
    description: 'A principal; password hashes never leave.',
    properties: { id: string, hasPassword: { type: 'boolean' }, ...principalInput.properties },
  };
  delete (principal.properties as Record<string, unknown>).password;
  const group = { type: 'object', properties: { id: string, name: string, description: string, ...GRANTS } };
  const groupInput = {
    type: 'object',
    properties: { name: string, description: string, ...GRANTS },
    additionalProperties: false,
  };
  const apiKey = {
    type: 'object',
    description: 'An API key; its secret hash never leaves.',
    properties: {
      id: string,
      principalId: string,
      name: string,
      scopes: { type: 'array', items: string },
      createdAt: time,
      expiresAt: time,
    },
  };
  const guard: ProblemCodes = { 401: ['authentication.required'], 403: ['forbidden.endpoint', 'forbidden.scope'] };
  const change = mergeCodes(guard, { 400: ['validation'], 403: ['forbidden.escalation'] });
  const write = mergeCodes(change, BODY_CODES);
  const missing: ProblemCodes = { 404: ['not_found'] };
  const id = pathParameter('id');
  const description = {
    tags: [{ name: tag, description: 'Principals, groups and API keys; nobody grants more than they hold.' }],
    paths: {
      '/principals': {
        get: op(
          tag,
          'principals.list',
          'List principals',
          ok('Principals.', items(principal)),
          mergeCodes(guard, { 400: ['validation'] }),
          {
            parameters: [{ name: 'type', in: 'query', schema: { enum: ['user', 'oidcGroup'] } }],
          },
        ),
      },
      '/principals/{id}': {
        parameters: [id],
        get: op(tag, 'principals.get', 'Read a principal', ok('The principal.', principal), mergeCodes(guard, missing)),
        put: op(
          tag,
          'principals.put',
          'Create (201) or replace (200) a principal',
          { ...ok('Replaced.', principal), ...ok('Created.', principal, 201) },
          write,
          { requestBody: body(principalInput) },
        ),
        delete: op(tag, 'principals.delete', 'Delete a principal', NO_CONTENT, mergeCodes(change, missing)),
      },
      '/groups': { get: op(tag, 'groups.list', 'List groups', ok('Groups.', items(group)), guard) },
      '/groups/{id}': {
        parameters: [id],
        get: op(tag, 'groups.get', 'Read a group', ok('The group.', group), mergeCodes(guard, missing)),
        put: op(
          tag,
          'groups.put',
          'Create (201) or replace (200) a group',
          { ...ok('Replaced.', group), ...ok('Created.', group, 201) },
          write,
          { requestBody: body(groupInput) },
        ),
        delete: op(tag, 'groups.delete', 'Delete a group', NO_CONTENT, mergeCodes(change, missing)),
      },
      '/principals/{id}/api-keys': {
        parameters: [id],
        get: op(tag, 'apiKeys.list', "A principal's API keys", ok('Keys.', items(apiKey)), mergeCodes(guard, missing)),
        post: op(
          tag,
          'apiKeys.create',
          'Issue an API key acting as the principal; `key` is shown this once',
          ok('The key.', { ...apiKey, properties: { ...apiKey.properties, key: string } }, 201),
          mergeCodes(write, missing),
          {
            requestBody: body({
              type: 'object',
              properties: {
                name: { type: 'string', maxLength: 256 },
                scopes: { type: 'array', items: string, maxItems: 64 },
                expiresInMs: { type: 'integer', minimum: 1000 },
              },
              additionalProperties: false,
            }),
          },
        ),
      },
      '/api-keys/{id}': {
        parameters: [id],
        delete: op(tag, 'apiKeys.revoke', 'Revoke an API key', NO_CONTENT, mergeCodes(change, missing)),
      },
    },
  };
  return () => description;
}

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

/** A key or token scoped to other resources is refused the session routes (sessions:read, sessions:delete). */
const SCOPED: ProblemCodes = { 403: ['forbidden.scope'] };

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

const pendingLogin = object(
  {
    status: { const: 'totp_required' },
    pendingToken: { type: 'string', description: 'For `POST /login/totp` only, once, until `expiresAt`.' },
    expiresAt: time,
  },
  ['status', 'pendingToken', 'expiresAt'],
);
const loggedInFields: Record<string, JsonSchema> = {
  token: string,
  tokenType: { const: 'Bearer' },
  sessionId: string,
  expiresAt: time,
};
const loggedInRequired = ['token', 'tokenType', 'sessionId', 'expiresAt'];
const loggedIn = object(loggedInFields, loggedInRequired);
const totpCode = { type: 'string', pattern: '^\\s*\\d{3}\\s*\\d{3}\\s*$', description: 'The 6-digit code of the app.' };
const recoveryCode = { type: 'string', maxLength: 64, description: 'One of the recovery codes, once.' };
const TOTP_FAILED = ['authentication.totp_failed'];
const TOTP_LIMITED = ['rate_limited.failures'];

function describeSecondFactor(tag: string, limited: boolean): Record<string, Record<string, unknown>> {
  const codeBody = body(object({ code: totpCode }, ['code']));
  const session = { 400: ['validation', 'validation.no_session'] };
  return {
    '/login/totp': {
      post: op(
        tag,
        'auth.login.totp',
        'Complete a login with the code (or a recovery code): a bearer token bound to a new session',
        ok(
          'Logged in.',
          object({ ...loggedInFields, recoveryCodesLeft: { type: 'integer', minimum: 0 } }, [...loggedInRequired]),
          201,
        ),
        mergeCodes(
          {
            400: ['validation'],
            401: ['authentication.pending_invalid', ...TOTP_FAILED],
            429: [...TOTP_LIMITED, ...(limited ? ['rate_limited'] : [])],
          },
          BODY_CODES,
        ),
        {
          security: [],
          requestBody: body({
            ...object({ pendingToken: string, code: totpCode, recoveryCode }, ['pendingToken']),
            oneOf: [{ required: ['code'] }, { required: ['recoveryCode'] }],
          }),
        },
      ),
    },
    '/totp': {
      get: op(
        tag,
        'auth.totp.status',
        'Whether you have a second factor, and how many recovery codes are left',
        ok(
          'Your second factor.',
          object(
            {
              enrolled: { type: 'boolean' },
              pending: { type: 'boolean' },
              recoveryCodesLeft: { type: 'integer' },
              bypassUntil: time,
            },
            ['enrolled', 'pending', 'recoveryCodesLeft'],
          ),
        ),
        session,
      ),
      post: op(
        tag,
        'auth.totp.enrol',
        'Start enrolling a TOTP app: the secret, shown once, as text, otpauth:// URI and QR code (SVG)',
        ok(
          'Scan the QR code, then confirm with a code.',
          object({ secret: string, otpauthUri: string, qrCodeSvg: string, issuer: string }, [
            'secret',
            'otpauthUri',
            'qrCodeSvg',
            'issuer',
          ]),
          201,
        ),
        { ...session, 409: ['conflict.totp_enrolled'] },
      ),
      delete: op(
        tag,
        'auth.totp.remove',
        'Remove your second factor (with a code or recovery code once confirmed)',
        NO_CONTENT,
        mergeCodes({ ...session, 401: TOTP_FAILED, 404: ['not_found'], 429: TOTP_LIMITED }, BODY_CODES),
        { requestBody: { required: false, content: json(object({ code: totpCode, recoveryCode })) } },
      ),
    },
    '/totp/confirm': {
      post: op(
        tag,
        'auth.totp.confirm',
        'Confirm an enrolment with a first code: the recovery codes, shown once',
        ok('Enrolled.', object({ enrolled: { const: true }, recoveryCodes: { type: 'array', items: string } })),
        mergeCodes(
          { ...session, 401: TOTP_FAILED, 404: ['not_found'], 409: ['conflict.totp_enrolled'], 429: TOTP_LIMITED },
          BODY_CODES,
        ),
        { requestBody: codeBody },
      ),
    },
    '/totp/recovery-codes': {
      post: op(
        tag,
        'auth.totp.recoveryCodes',
        'Replace your recovery codes (the old ones stop working): the new ones, shown once',
        ok('New recovery codes.', object({ recoveryCodes: { type: 'array', items: string } }, ['recoveryCodes'])),
        mergeCodes({ ...session, 401: TOTP_FAILED, 404: ['not_found'], 429: TOTP_LIMITED }, BODY_CODES),
        { requestBody: codeBody },
      ),
    },
  };
}

export function describeAuthRouter(options: { loginLimited: boolean; secondFactor?: boolean }): Describer {
  const tag = 'auth';
  const description = {
    tags: [{ name: tag, description: 'Log in and out, your sessions, who you are and what you may call.' }],
    paths: {
      '/login': {
        post: op(
          tag,
          'auth.login',
          'Log in with a username and password: a bearer token bound to a new session, or (202) a pending login that wants the second factor',
          {
            ...ok('Logged in.', loggedIn, 201),
            ...(options.secondFactor
              ? ok('The password was right; send the code to POST /login/totp.', pendingLogin, 202)
              : {}),
          },
          mergeCodes(
            {
              400: ['validation'],
              401: [
                'authentication.login_failed',
                ...(options.secondFactor ? [] : ['authentication.totp_unavailable']),
              ],
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
        get: op(tag, 'auth.sessions.list', 'Your live sessions', ok('Sessions.', items(session)), SCOPED),
        delete: op(
          tag,
          'auth.sessions.revokeAll',
          'End all your sessions',
          ok('How many ended.', object({ revoked: { type: 'integer', minimum: 0 } }, ['revoked'])),
          SCOPED,
        ),
      },
      '/sessions/{id}': {
        parameters: [pathParameter('id')],
        delete: op(tag, 'auth.sessions.revoke', 'End one of your sessions', NO_CONTENT, {
          ...SCOPED,
          404: ['not_found'],
        }),
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
          'Whether your permitted endpoints and credential scopes allow a call',
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
      ...(options.secondFactor ? describeSecondFactor(tag, options.loginLimited) : {}),
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
          mergeCodes(write, { 400: ['validation', 'validation.body', 'abac.invalid_policy'] }, BODY_CODES),
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
  const principalDetail = {
    ...principal,
    properties: {
      ...principal.properties,
      secondFactor: {
        type: 'object',
        description:
          'Whether its login takes a TOTP code, and until when an administrator suspended that; never the secret.',
        properties: { enrolled: { type: 'boolean' }, bypassUntil: time, bypassGrantedBy: string },
        required: ['enrolled'],
      },
    },
  };
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
        get: op(
          tag,
          'principals.get',
          'Read a principal',
          ok('The principal.', principalDetail),
          mergeCodes(guard, missing),
        ),
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
      '/principals/{id}/totp-bypass': {
        parameters: [id],
        put: op(
          tag,
          'principals.totpBypass.grant',
          'Let a principal with a second factor log in with the password alone, for a time (audited)',
          ok(
            'The bypass.',
            object({ principalId: string, bypassUntil: time, grantedBy: string }, [
              'principalId',
              'bypassUntil',
              'grantedBy',
            ]),
          ),
          mergeCodes(write, missing),
          {
            requestBody: {
              required: false,
              content: json(
                object({
                  durationMs: { type: 'integer', minimum: 60_000, description: 'Default 3 600 000 (1 h).' },
                }),
              ),
            },
          },
        ),
        delete: op(
          tag,
          'principals.totpBypass.revoke',
          'End a TOTP bypass now',
          NO_CONTENT,
          mergeCodes(change, missing),
        ),
      },
    },
  };
  return () => description;
}

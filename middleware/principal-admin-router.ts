// Admin routes for principals, groups and API keys; every route is guarded by the caller's permitted endpoints.
import express, { type RequestHandler, type Router } from 'express';
import { ApiKeyHasher, generateApiKey, parseApiKey } from '../src/auth/api-keys.js';
import { scryptHash } from '../src/auth/secrets.js';
import { systemClock, type Clock } from '../src/clock.js';
import type {
  ApiKeyRecord,
  GroupRecord,
  PrincipalRecord,
  PrincipalStore,
  PrincipalType,
} from '../src/contracts/principals.js';
import { ConfigError, NotFoundError, ValidationError } from '../src/errors.js';
import { requirePermittedEndpoint } from './authorize-endpoint.js';
import { rejectUnknownOptions } from './options.js';

export interface PrincipalAdminRouterOptions {
  principals: PrincipalStore;
  /** `authenticate()`; the router then checks the caller's permitted endpoints (admins have all). */
  authenticate: RequestHandler;
  /** The hasher the API-key strategy verifies with. Default: scrypt. */
  hasher?: ApiKeyHasher;
  now?: Clock;
}

const PRINCIPAL_FIELDS = [
  'type',
  'name',
  'email',
  'groups',
  'attributes',
  'disabled',
  'quotas',
  'permittedEndpoints',
  'filterFields',
  'excludeFields',
  'updateFieldsPermitted',
  'updateFieldsRestricted',
  'admin',
  'password',
];
const GROUP_FIELDS = [
  'name',
  'description',
  'permittedEndpoints',
  'filterFields',
  'excludeFields',
  'updateFieldsPermitted',
  'updateFieldsRestricted',
  'admin',
];
const MAX_KEY_LIFETIME_MS = 5 * 365 * 86_400_000;

/**
 * `GET|PUT|DELETE /principals[/:id]`, `GET|PUT|DELETE /groups[/:id]`, `GET|POST /principals/:id/api-keys`,
 * `DELETE /api-keys/:id`. Password hashes and secret hashes never leave; a new key's secret is returned once.
 */
export function principalAdminRouter(options: PrincipalAdminRouterOptions): Router {
  rejectUnknownOptions('principalAdminRouter', options, ['principals', 'authenticate', 'hasher', 'now']);
  if (!options?.principals) throw new ConfigError('principals', 'is required by principalAdminRouter');
  if (!options.authenticate) throw new ConfigError('authenticate', 'is required by principalAdminRouter');
  const { principals } = options;
  const hasher = options.hasher ?? new ApiKeyHasher();
  const now = options.now ?? systemClock;
  const router = express.Router();
  router.use(options.authenticate, requirePermittedEndpoint({ scopePrefix: 'admin' }));

  router.get('/principals', async (req, res) => {
    const type = req.query.type;
    if (type !== undefined && type !== 'user' && type !== 'oidcGroup') {
      throw new ValidationError('Invalid query.', {
        errors: [{ field: 'type', message: 'must be user or oidcGroup' }],
      });
    }
    res.json({
      items: (await principals.listPrincipals(type ? { type: type as PrincipalType } : {})).map(principalView),
    });
  });

  router.get('/principals/:id', async (req, res) => {
    const record = await principals.getPrincipal(String(req.params.id));
    if (!record) throw new NotFoundError('No such principal.');
    res.json(principalView(record));
  });

  router.put('/principals/:id', async (req, res) => {
    const body = objectBody(req.body, PRINCIPAL_FIELDS);
    const id = String(req.params.id);
    const existing = await principals.getPrincipal(id);
    const { password, ...fields } = body as Partial<PrincipalRecord> & { password?: unknown };
    const record: PrincipalRecord = {
      groups: [],
      attributes: {},
      ...fields,
      type: (fields.type ?? 'user') as PrincipalType,
      id,
    };
    if (password !== undefined) {
      if (typeof password !== 'string' || password.length < 8 || password.length > 1024) {
        throw new ValidationError('Invalid principal.', {
          errors: [{ field: 'password', message: 'must be a string of 8-1024 characters' }],
        });
      }
      record.passwordHash = await scryptHash(password);
    } else if (existing?.passwordHash) {
      record.passwordHash = existing.passwordHash;
    }
    const saved = await principals.savePrincipal(record);
    res.status(existing ? 200 : 201).json(principalView(saved));
  });

  router.delete('/principals/:id', async (req, res) => {
    if (!(await principals.deletePrincipal(String(req.params.id)))) throw new NotFoundError('No such principal.');
    res.status(204).end();
  });

  router.get('/groups', async (_req, res) => {
    res.json({ items: await principals.listGroups() });
  });

  router.get('/groups/:id', async (req, res) => {
    const [group] = await principals.getGroups([String(req.params.id)]);
    if (!group) throw new NotFoundError('No such group.');
    res.json(group);
  });

  router.put('/groups/:id', async (req, res) => {
    const body = objectBody(req.body, GROUP_FIELDS) as Partial<GroupRecord>;
    const id = String(req.params.id);
    const [existing] = await principals.getGroups([id]);
    const saved = await principals.saveGroup({ ...body, id });
    res.status(existing ? 200 : 201).json(saved);
  });

  router.delete('/groups/:id', async (req, res) => {
    if (!(await principals.deleteGroup(String(req.params.id)))) throw new NotFoundError('No such group.');
    res.status(204).end();
  });

  router.get('/principals/:id/api-keys', async (req, res) => {
    const id = String(req.params.id);
    if (!(await principals.getPrincipal(id))) throw new NotFoundError('No such principal.');
    res.json({ items: (await principals.listApiKeys(id)).map(apiKeyView) });
  });

  router.post('/principals/:id/api-keys', async (req, res) => {
    const id = String(req.params.id);
    const body = objectBody(req.body ?? {}, ['name', 'scopes', 'expiresInMs']);
    const problems = [];
    if (body.name !== undefined && (typeof body.name !== 'string' || body.name.length > 256)) {
      problems.push({ field: 'name', message: 'must be a string of at most 256 characters' });
    }
    const scopes = body.scopes ?? [];
    if (
      !Array.isArray(scopes) ||
      scopes.length > 64 ||
      !scopes.every((s) => typeof s === 'string' && /^[\w:.*-]{1,128}$/.test(s))
    ) {
      problems.push({ field: 'scopes', message: 'must be a list of at most 64 scope names' });
    }
    const ttl = body.expiresInMs;
    if (
      ttl !== undefined &&
      (!Number.isSafeInteger(ttl) || (ttl as number) < 1000 || (ttl as number) > MAX_KEY_LIFETIME_MS)
    ) {
      problems.push({ field: 'expiresInMs', message: `must be an integer between 1000 and ${MAX_KEY_LIFETIME_MS}` });
    }
    if (problems.length > 0) throw new ValidationError('Invalid API key request.', { errors: problems });
    if (!(await principals.getPrincipal(id))) throw new NotFoundError('No such principal.');
    const generated = generateApiKey();
    const time = now();
    const record: ApiKeyRecord = {
      id: generated.id,
      principalId: id,
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
      secretHash: await hasher.hash(generated.secret),
      scopes: scopes as string[],
      createdAt: new Date(time),
      ...(ttl !== undefined ? { expiresAt: new Date(time + (ttl as number)) } : {}),
    };
    await principals.createApiKey(record);
    res.status(201).json({ ...apiKeyView(record), key: generated.token });
  });

  router.delete('/api-keys/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!(await principals.getApiKey(id))) throw new NotFoundError('No such API key.');
    await principals.revokeApiKey(id, new Date(now()));
    res.status(204).end();
  });

  return router;
}

export interface BootstrapAdminOptions {
  principals: PrincipalStore;
  /** The operator-chosen key (`ADMIN_API_KEY`), sent as `X-API-Key`. */
  apiKey: string;
  hasher?: ApiKeyHasher;
  /** Default `admin`. */
  principalId?: string;
  now?: Clock;
}

/** Creates or updates an admin principal whose API key `apiKey` is (idempotent; a new value replaces the old). */
export async function bootstrapAdmin(options: BootstrapAdminOptions): Promise<{ principalId: string; keyId: string }> {
  const parsed = parseApiKey(options?.apiKey);
  if (!parsed) throw new ConfigError('ADMIN_API_KEY', 'must be 16-512 printable characters');
  const principalId = options.principalId ?? 'admin';
  const hasher = options.hasher ?? new ApiKeyHasher();
  const now = options.now ?? systemClock;
  const existing = await options.principals.getPrincipal(principalId);
  await options.principals.savePrincipal({
    groups: [],
    attributes: {},
    ...existing,
    id: principalId,
    type: 'user',
    name: existing?.name ?? 'Administrator',
    admin: true,
  });
  // Older bootstrap keys of this admin stop working when the variable changes.
  for (const key of await options.principals.listApiKeys(principalId)) {
    if (key.id !== parsed.id && key.name === 'bootstrap' && !key.revokedAt) {
      await options.principals.revokeApiKey(key.id, new Date(now()));
    }
  }
  await options.principals.saveApiKey({
    id: parsed.id,
    principalId,
    name: 'bootstrap',
    secretHash: await hasher.hash(parsed.secret),
    scopes: [],
    createdAt: new Date(now()),
  });
  return { principalId, keyId: parsed.id };
}

function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('The request body must be a JSON object.');
  }
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new ValidationError('Unknown fields.', {
      errors: unknown.map((field) => ({ field, message: `is not accepted here (accepted: ${allowed.join(', ')})` })),
    });
  }
  return body as Record<string, unknown>;
}

function principalView(record: PrincipalRecord) {
  const { passwordHash, ...rest } = record;
  return { ...rest, hasPassword: passwordHash !== undefined };
}

function apiKeyView(record: ApiKeyRecord) {
  const { secretHash: _secretHash, ...rest } = record;
  return rest;
}

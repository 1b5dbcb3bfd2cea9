// Admin routes for principals, groups and API keys; every route is guarded by the caller's permitted endpoints
// and every change by the escalation rule (src/auth/escalation.ts).
import express, { type Request, type RequestHandler, type Router } from 'express';
import { ApiKeyHasher, generateApiKey, parseApiKey } from '../src/auth/api-keys.js';
import {
  assertNoEscalation,
  authorityOf,
  isFullAdmin,
  mayGrant,
  mayIssueCredential,
  type Authority,
  type Holding,
} from '../src/auth/escalation.js';
import { mergePermissions } from '../src/auth/permissions.js';
import { scryptHash } from '../src/auth/secrets.js';
import { systemClock, type Clock } from '../src/clock.js';
import type {
  ApiKeyRecord,
  GroupRecord,
  PrincipalRecord,
  PrincipalStore,
  PrincipalType,
} from '../src/contracts/principals.js';
import type { SessionStore } from '../src/contracts/sessions.js';
import { ConfigError, NotFoundError, ValidationError, type FieldProblem } from '../src/errors.js';
import { validateGroup, validatePrincipal } from '../src/auth/validate.js';
import { requirePermittedEndpoint } from './authorize-endpoint.js';
import { contextOf } from './context.js';
import { objectBody } from './json-body.js';
import { describeRouter, type DescribedRouter } from './openapi/describe.js';
import { describePrincipalAdminRouter } from './openapi/routers.js';
import { checkOptions, integerOption } from '../src/options.js';
import { auditStep } from './second-factor.js';

export interface PrincipalAdminRouterOptions {
  principals: PrincipalStore;
  /** `authenticate()`; the router then checks the caller's permitted endpoints (admins have all). */
  authenticate: RequestHandler;
  /** The hasher the API-key strategy verifies with. Default: scrypt. */
  hasher?: ApiKeyHasher;
  /** Longest TOTP bypass (`PUT /principals/:id/totp-bypass`) one request may grant. Default 86 400 000 (24 h). */
  maxTotpBypassMs?: number;
  /**
   * The login sessions: a principal's are revoked when it is deleted, disabled, given a new password, or
   * created (sessions left by an earlier principal of the same id must not come back to life). Without it,
   * logins outlive those changes until they expire.
   */
  sessions?: Pick<SessionStore, 'revokeAllForUser'>;
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
 * A caller who is not a full admin grants only what it holds and touches only principals it covers
 * (403 `forbidden.escalation`, see `mayGrant`).
 */
export function principalAdminRouter(options: PrincipalAdminRouterOptions): Router & DescribedRouter {
  checkOptions('principalAdminRouter()', options, [
    'principals',
    'authenticate',
    'hasher',
    'maxTotpBypassMs',
    'sessions',
    'now',
  ]);
  if (options.sessions !== undefined && typeof options.sessions?.revokeAllForUser !== 'function') {
    throw new ConfigError('sessions', 'must be a session store');
  }
  const sessions = options.sessions;
  if (!options?.principals) throw new ConfigError('principals', 'is required by principalAdminRouter');
  if (!options.authenticate) throw new ConfigError('authenticate', 'is required by principalAdminRouter');
  const { principals } = options;
  const hasher = options.hasher ?? new ApiKeyHasher();
  const now = options.now ?? systemClock;
  const maxBypassMs = integerOption('maxTotpBypassMs', options.maxTotpBypassMs, {
    fallback: 86_400_000,
    min: 60_000,
    max: 30 * 86_400_000,
  });
  const router = express.Router();
  router.use(options.authenticate, requirePermittedEndpoint({ scopePrefix: 'admin' }));

  /** A principal's holding; `replaced` stands for a group as it will be after the request (undefined: deleted). */
  async function holdingOf(
    record: PrincipalRecord,
    replaced?: { id: string; group: GroupRecord | undefined },
  ): Promise<Holding> {
    let groups = record.groups.length > 0 ? await principals.getGroups(record.groups) : [];
    if (replaced && record.groups.includes(replaced.id)) {
      groups = groups.filter((group) => group.id !== replaced.id);
      if (replaced.group) groups.push(replaced.group);
    }
    return {
      permissions: mergePermissions(record, groups),
      groups: record.groups,
      attributes: record.attributes,
      quotas: record.quotas,
    };
  }

  /** Problems of changing group `id`: the group's own grants, and every member's rights before and after. */
  async function groupChangeProblems(
    actor: Authority,
    id: string,
    before: GroupRecord | undefined,
    after: GroupRecord | undefined,
  ): Promise<FieldProblem[]> {
    if (isFullAdmin(actor)) return [];
    const problems = mayGrant(actor, before && groupHolding(before), after && groupHolding(after));
    for (const member of await principals.listPrincipals()) {
      if (!member.groups.includes(id)) continue;
      const change = mayGrant(
        actor,
        await holdingOf(member),
        await holdingOf(member, { id, group: after }),
        `members.${member.id}.`,
      );
      problems.push(...change);
    }
    return problems;
  }

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
    const id = String(req.params.id);
    const [record, factor] = await Promise.all([principals.getPrincipal(id), principals.getSecondFactor(id)]);
    if (!record) throw new NotFoundError('No such principal.');
    // Whether the login takes a code, and whether that is suspended: never the secret or the recovery codes.
    const bypassing = factor?.bypassUntil !== undefined && factor.bypassUntil.getTime() > now();
    res.json({
      ...principalView(record),
      secondFactor: {
        enrolled: factor?.confirmed ?? false,
        ...(bypassing
          ? {
              bypassUntil: factor.bypassUntil!.toISOString(),
              ...(factor.bypassGrantedBy ? { bypassGrantedBy: factor.bypassGrantedBy } : {}),
            }
          : {}),
      },
    });
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
    if (password !== undefined && (typeof password !== 'string' || password.length < 8 || password.length > 1024)) {
      throw new ValidationError('Invalid principal.', {
        errors: [{ field: 'password', message: 'must be a string of 8-1024 characters' }],
      });
    }
    // Validated before the rule compares anything: it reads the grant lists.
    validatePrincipal(record);
    const actor = actorOf(req);
    assertNoEscalation([
      ...mayGrant(actor, existing && (await holdingOf(existing)), await holdingOf(record)),
      ...(password !== undefined ? mayIssueCredential(actor, 'all') : []),
    ]);
    if (typeof password === 'string') {
      record.passwordHash = await scryptHash(password);
    } else if (existing?.passwordHash) {
      record.passwordHash = existing.passwordHash;
    }
    const saved = await principals.savePrincipal(record);
    // Not only on the change to disabled: a retry after a 503 here must still end the sessions.
    if (!existing || typeof password === 'string' || saved.disabled === true) {
      await sessions?.revokeAllForUser(id);
    }
    res.status(existing ? 200 : 201).json(principalView(saved));
  });

  router.delete('/principals/:id', async (req, res) => {
    const id = String(req.params.id);
    const existing = await principals.getPrincipal(id);
    if (!existing) throw new NotFoundError('No such principal.');
    assertNoEscalation(mayGrant(actorOf(req), await holdingOf(existing), undefined));
    if (!(await principals.deletePrincipal(id))) throw new NotFoundError('No such principal.');
    await sessions?.revokeAllForUser(id);
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
    const group: GroupRecord = { ...body, id };
    validateGroup(group);
    const [existing] = await principals.getGroups([id]);
    assertNoEscalation(await groupChangeProblems(actorOf(req), id, existing, group));
    const saved = await principals.saveGroup(group);
    res.status(existing ? 200 : 201).json(saved);
  });

  router.delete('/groups/:id', async (req, res) => {
    const id = String(req.params.id);
    const [existing] = await principals.getGroups([id]);
    if (!existing) throw new NotFoundError('No such group.');
    assertNoEscalation(await groupChangeProblems(actorOf(req), id, existing, undefined));
    if (!(await principals.deleteGroup(id))) throw new NotFoundError('No such group.');
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
    const owner = await principals.getPrincipal(id);
    if (!owner) throw new NotFoundError('No such principal.');
    // A key acts as its owner: minting one is taking the owner's rights.
    const actor = actorOf(req);
    const held = await holdingOf(owner);
    assertNoEscalation([...mayGrant(actor, held, held), ...mayIssueCredential(actor, scopes as string[])]);
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
    const key = await principals.getApiKey(id);
    if (!key) throw new NotFoundError('No such API key.');
    const owner = await principals.getPrincipal(key.principalId);
    if (owner) {
      const held = await holdingOf(owner);
      assertNoEscalation(mayGrant(actorOf(req), held, held));
    }
    await principals.revokeApiKey(id, new Date(now()));
    res.status(204).end();
  });

  /**
   * The owner of a second factor, for a bypass: lifting it lets whoever has the password log in with the
   * owner's full rights, so the rule is that of setting a password (the caller covers the owner and its
   * credential is not scoped).
   */
  async function bypassTarget(req: Request): Promise<string> {
    const id = String(req.params.id);
    const owner = await principals.getPrincipal(id);
    if (!owner) throw new NotFoundError('No such principal.');
    const actor = actorOf(req);
    const held = await holdingOf(owner);
    assertNoEscalation([...mayGrant(actor, held, held), ...mayIssueCredential(actor, 'all')]);
    if (!(await principals.getSecondFactor(id))?.confirmed) {
      throw new NotFoundError('This principal has no second factor.');
    }
    return id;
  }

  router.put('/principals/:id/totp-bypass', async (req, res) => {
    // Named before any check, so that a refused grant is recorded as one too.
    auditStep(req, 'auth.totp.bypass_granted', String(req.params.id));
    const body = objectBody(req.body ?? {}, ['durationMs']);
    const duration = body.durationMs ?? 3_600_000;
    if (!Number.isSafeInteger(duration) || (duration as number) < 60_000 || (duration as number) > maxBypassMs) {
      throw new ValidationError('Invalid bypass.', {
        errors: [{ field: 'durationMs', message: `must be an integer between 60000 and ${maxBypassMs}` }],
      });
    }
    const id = await bypassTarget(req);
    const grantedBy = contextOf(req).principal!.id;
    const until = new Date(now() + (duration as number));
    await principals.updateSecondFactor(id, { bypassUntil: until, bypassGrantedBy: grantedBy });
    auditStep(req, 'auth.totp.bypass_granted', id, { bypassUntil: until.toISOString(), durationMs: duration });
    res.json({ principalId: id, bypassUntil: until.toISOString(), grantedBy });
  });

  router.delete('/principals/:id/totp-bypass', async (req, res) => {
    auditStep(req, 'auth.totp.bypass_revoked', String(req.params.id));
    const id = await bypassTarget(req);
    await principals.updateSecondFactor(id, { bypassUntil: null, bypassGrantedBy: null });
    res.status(204).end();
  });

  return describeRouter(router, describePrincipalAdminRouter());
}

export interface BootstrapAdminOptions {
  principals: PrincipalStore;
  /** The operator-chosen key (`ADMIN_API_KEY`), sent as `X-API-Key`. */
  apiKey: string;
  hasher?: ApiKeyHasher;
  /** Default `admin`. */
  principalId?: string;
  /**
   * ABAC attributes the admin gets (merged over those it has), so that role-based policies decide for it
   * like for everyone. Default `{ role: 'admin' }` (`createAuth` takes the role from `ADMIN_ROLE`).
   */
  attributes?: Record<string, unknown>;
  now?: Clock;
}

/** The attributes `bootstrapAdmin()` gives the admin by default. */
export const BOOTSTRAP_ADMIN_ATTRIBUTES: Readonly<Record<string, unknown>> = Object.freeze({ role: 'admin' });

/** Creates or updates an admin principal whose API key `apiKey` is (idempotent; a new value replaces the old). */
export async function bootstrapAdmin(options: BootstrapAdminOptions): Promise<{ principalId: string; keyId: string }> {
  const parsed = parseApiKey(options?.apiKey);
  if (!parsed) throw new ConfigError('ADMIN_API_KEY', 'must be 16-512 printable characters');
  const principalId = options.principalId ?? 'admin';
  const attributes = options.attributes ?? BOOTSTRAP_ADMIN_ATTRIBUTES;
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new ConfigError('attributes', 'must be an object of ABAC attributes');
  }
  const hasher = options.hasher ?? new ApiKeyHasher();
  const now = options.now ?? systemClock;
  const existing = await options.principals.getPrincipal(principalId);
  await options.principals.savePrincipal({
    groups: [],
    ...existing,
    attributes: { ...existing?.attributes, ...attributes },
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

function actorOf(req: Request): Authority {
  const { principal, permissions } = contextOf(req);
  // requirePermittedEndpoint() ran first, so both are set.
  return authorityOf(principal!, permissions!);
}

function groupHolding(group: GroupRecord): Holding {
  return { permissions: mergePermissions(group), groups: [], attributes: {} };
}

function principalView(record: PrincipalRecord) {
  const { passwordHash, ...rest } = record;
  return { ...rest, hasPassword: passwordHash !== undefined };
}

function apiKeyView(record: ApiKeyRecord) {
  const { secretHash: _secretHash, ...rest } = record;
  return rest;
}

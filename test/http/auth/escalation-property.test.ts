// Property test of the escalation rule over HTTP: random admin requests by random non-admin principals never
// leave anyone with a capability no full admin granted, nor give anyone a capability the actor lacked.
// Capabilities are measured independently of the rule: by probing each principal's merged permissions (the
// ones authentication computes) with concrete endpoints, records and fields.
import { expect } from 'chai';
import { createSecretKey } from 'node:crypto';
import express, { type Express } from 'express';
import request from 'supertest';
import { ApiKeyHasher } from '../../../src/auth/api-keys.js';
import { forbiddenUpdateFields, isEndpointPermitted } from '../../../src/auth/permissions.js';
import { permissionsOf } from '../../../src/auth/resolve.js';
import { scopeGrants } from '../../../src/auth/scopes.js';
import type { EffectivePermissions } from '../../../src/auth/principal.js';
import type { PrincipalRecord } from '../../../src/contracts/principals.js';
import { apiKeyStrategy } from '../../../middleware/auth-strategies.js';
import { authenticate } from '../../../middleware/authenticate.js';
import { requirePermittedEndpoint } from '../../../middleware/authorize-endpoint.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { policyAdminRouter } from '../../../middleware/policy-admin-router.js';
import { principalAdminRouter } from '../../../middleware/principal-admin-router.js';
import { MemoryPolicyStore } from '../../../stores/memory/policies.js';
import { MemoryPrincipalStore } from '../../../stores/memory/principals.js';
import { prng } from '../../support/prng.js';

const SEEDS = (process.env.ESCALATION_SEEDS ?? '20261205,7,1234').split(',').map(Number);
const REQUESTS_PER_SEED = Number(process.env.ESCALATION_REQUESTS ?? 200);

const ENDPOINTS = [
  { method: 'GET', path: '/r/a' },
  { method: 'GET|POST', path: '/r/a' },
  { method: 'GET', path: '/r/[^/]+' },
  { method: 'PATCH', path: '/r/[^/]+' },
  { method: '*', path: '/r/b' },
  { method: 'GET', path: '/r/b' },
  { method: 'DELETE', path: '/r/b' },
  { method: 'GET|PUT', path: '/admin/principals/[^/]+' },
  { method: 'PUT', path: '/admin/principals/[^/]+' },
  { method: 'DELETE', path: '/admin/principals/[^/]+' },
  { method: 'POST', path: '/admin/principals/[^/]+/api-keys' },
  { method: 'PUT|DELETE', path: '/admin/groups/[^/]+' },
  { method: 'DELETE', path: '/admin/api-keys/[^/]+' },
  { method: 'PUT', path: '/admin/policies/[^/]+' },
  { method: 'PUT', path: '/admin/principals/u1' },
];
const FILTERS = [
  { field: 'country', value: 'DE' },
  { field: 'country', value: ['DE', 'FR'] },
  { field: 'country', value: 'US' },
  { field: 'team', value: 'red' },
  { field: 'team', value: ['red', 'blue'] },
];
const FIELDS = ['status', 'phone', 'notes', 'ssn', 'salary'];
const ATTRIBUTES: [string, unknown][] = [
  ['role', 'clerk'],
  ['role', 'manager'],
  ['desk', 'x'],
  ['level', 2],
];
const GROUP_IDS = ['g1', 'g2', 'g3', 'g4'];
const PRINCIPAL_IDS = ['u1', 'u2', 'u3', 'u4', 'u5', 'n1', 'n2', 'n3', 'admin'];
// The admin routes need admin:<level> of a scoped credential; the others only matter to the rule.
const SCOPES = ['admin:write', 'admin:delete', 'admin:*', 'accounts:read'];
const QUOTA_LIMITS = [5, 50, 500];
const DEFAULT_QUOTA = 100;
const ADMIN_KEY_ID = 'pc_0000000000000000';
const ADMIN_SECRET = 'A'.repeat(43);
const ADMIN = `${ADMIN_KEY_ID}.${ADMIN_SECRET}`;

// Concrete probes: what a principal can actually do is measured on these.
const PROBES: [string, string][] = [
  ['GET', '/r/a'],
  ['POST', '/r/a'],
  ['GET', '/r/b'],
  ['DELETE', '/r/b'],
  ['PATCH', '/r/zz'],
  ['GET', '/r/zz'],
  ['PUT', '/admin/principals/u1'],
  ['PUT', '/admin/principals/u2'],
  ['DELETE', '/admin/principals/u3'],
  ['POST', '/admin/principals/u2/api-keys'],
  ['PUT', '/admin/groups/g1'],
  ['PUT', '/admin/policies/p'],
];
const RECORDS = ['DE', 'FR', 'US'].flatMap((country) => ['red', 'blue'].map((team) => ({ country, team })));
const WRITES = new Set(['POST', 'PUT', 'PATCH']);

interface Subject {
  permissions: EffectivePermissions;
  record: PrincipalRecord;
}

function visible(permissions: EffectivePermissions, record: Record<string, string>): boolean {
  if (permissions.filters.length === 0) return true;
  return permissions.filters.some((filter) =>
    Object.entries(filter).every(([field, value]) =>
      (Array.isArray(value) ? value : [value]).includes(record[field] as never),
    ),
  );
}

/** Every capability of a principal, as strings; an admin's is the single `ADMIN`, which covers all. */
function capabilities({ permissions, record }: Subject): Set<string> {
  const caps = new Set<string>();
  if (permissions.allEndpoints) return new Set(['ADMIN']);
  for (const [method, path] of PROBES) {
    if (!isEndpointPermitted(permissions, method, path)) continue;
    for (const row of RECORDS) {
      if (!visible(permissions, row)) continue;
      const at = `${method} ${path} ${row.country}/${row.team}`;
      caps.add(at);
      for (const field of FIELDS) {
        if (!permissions.excludeFields.includes(field)) caps.add(`${at} see:${field}`);
        if (WRITES.has(method) && forbiddenUpdateFields(permissions, [field]).length === 0) {
          caps.add(`${at} write:${field}`);
        }
      }
    }
  }
  for (const [key, value] of Object.entries(record.attributes)) caps.add(`attr:${key}=${JSON.stringify(value)}`);
  for (const group of record.groups) caps.add(`group:${group}`);
  const limit = record.quotas?.upload ?? DEFAULT_QUOTA;
  for (let use = 1; use <= limit; use++) caps.add(`upload#${use}`);
  return caps;
}

function within(caps: Set<string>, bound: Set<string>): string[] {
  if (bound.has('ADMIN')) return [];
  return [...caps].filter((cap) => !bound.has(cap));
}

async function buildApp(principals: MemoryPrincipalStore, hasher: ApiKeyHasher): Promise<Express> {
  const auth = authenticate({ strategies: [apiKeyStrategy({ store: principals, hasher })] });
  const app = express();
  app.use(express.json());
  app.use('/admin', principalAdminRouter({ principals, authenticate: auth, hasher }));
  app.use('/admin', auth, requirePermittedEndpoint(), policyAdminRouter({ store: new MemoryPolicyStore() }));
  app.use(errorHandler());
  return app;
}

describe('escalation property: non-admins never grant what no admin granted', function () {
  this.timeout(300_000);

  for (const seed of SEEDS) {
    it(`holds over ${REQUESTS_PER_SEED} random requests (seed ${seed})`, async function () {
      const random = prng(seed);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
      const chance = (p: number) => random() < p;
      const some = <T>(list: readonly T[], p: number): T[] => list.filter(() => chance(p));

      const principals = new MemoryPrincipalStore();
      const hasher = new ApiKeyHasher({
        pepper: createSecretKey(Buffer.from('property-test-pepper-0123456789abcdef')),
      });
      const app = await buildApp(principals, hasher);
      const tokens = new Map<string, { token: string; keyId: string; scopes: string[] }>();

      const randomGrants = (allowAdmin: boolean) => ({
        ...(chance(0.8) ? { permittedEndpoints: some(ENDPOINTS, 0.3) } : {}),
        ...(chance(0.5) ? { filterFields: some(FILTERS, 0.3) } : {}),
        ...(chance(0.3) ? { excludeFields: some(FIELDS, 0.3) } : {}),
        ...(chance(0.3) ? { updateFieldsPermitted: some(FIELDS, 0.4) } : {}),
        ...(chance(0.2) ? { updateFieldsRestricted: some(FIELDS, 0.3) } : {}),
        ...(allowAdmin && chance(0.1) ? { admin: true } : {}),
      });
      const randomPrincipal = (): Omit<PrincipalRecord, 'id'> => ({
        type: 'user',
        groups: some(GROUP_IDS, 0.25),
        attributes: Object.fromEntries(some(ATTRIBUTES, 0.3)),
        ...(chance(0.2) ? { quotas: { upload: pick(QUOTA_LIMITS) } } : {}),
        ...randomGrants(true),
      });

      const subjects = async (): Promise<Map<string, Subject>> => {
        const all = new Map<string, Subject>();
        for (const record of await principals.listPrincipals()) {
          all.set(record.id, { record, permissions: await permissionsOf(principals, record) });
        }
        return all;
      };
      const granted = new Set<string>();
      const recordGrants = async () => {
        for (const subject of (await subjects()).values()) for (const cap of capabilities(subject)) granted.add(cap);
      };
      const mint = async (id: string, scopes: string[], actor?: string) => {
        const credential = actor ? tokens.get(actor)!.token : ADMIN;
        const response = await request(app)
          .post(`/admin/principals/${id}/api-keys`)
          .set('X-API-Key', credential)
          .send({ scopes });
        if (response.status === 201) tokens.set(id, { token: response.body.key, keyId: response.body.id, scopes });
        return response;
      };

      // The full admin (a key made here; everything it does is "granted by an admin").
      await principals.savePrincipal({ id: 'admin', type: 'user', groups: [], attributes: {}, admin: true });
      await principals.saveApiKey({
        id: ADMIN_KEY_ID,
        principalId: 'admin',
        secretHash: await hasher.hash(ADMIN_SECRET),
        scopes: [],
        createdAt: new Date(),
      });
      for (const id of GROUP_IDS) await principals.saveGroup({ id, ...randomGrants(id === 'g4') });
      for (const id of PRINCIPAL_IDS.filter((p) => p.startsWith('u'))) {
        const record = { id, ...randomPrincipal() };
        // Most of them delegate some administration, so that most requests reach the rule.
        if (chance(0.6))
          record.permittedEndpoints = [...(record.permittedEndpoints ?? []), ...some(ENDPOINTS.slice(7), 0.5)];
        await principals.savePrincipal(record);
        await mint(id, chance(0.3) ? some(SCOPES, 0.5) : []);
      }
      await recordGrants();

      const tally = { succeeded: 0, refused: 0, escalations: 0, credentials: 0, admin: 0 };
      for (let step = 0; step < REQUESTS_PER_SEED; step++) {
        const before = await subjects();
        if (chance(0.08)) {
          // An admin keeps changing things too: what it grants joins the granted set.
          const id = pick(PRINCIPAL_IDS.filter((p) => p !== 'admin'));
          await request(app)
            .put(`/admin/principals/${id}`)
            .set('X-API-Key', ADMIN)
            .send(randomPrincipal())
            .expect((r) => expect(r.status).to.be.oneOf([200, 201]));
          if (!tokens.has(id)) await mint(id, []);
          await recordGrants();
          tally.admin++;
          continue;
        }
        const actors = [...tokens.keys()].filter((id) => before.has(id) && !before.get(id)!.permissions.allEndpoints);
        if (actors.length === 0) continue;
        const actorId = pick(actors);
        const actor = before.get(actorId)!;
        const actorCaps = capabilities(actor);
        const credential = tokens.get(actorId)!;
        const as = (r: request.Test) => r.set('X-API-Key', credential.token);
        // Often themselves or a fresh principal, so that many requests are near the boundary rather than far off.
        const targetId = chance(0.3) ? actorId : chance(0.4) ? pick(['n1', 'n2', 'n3']) : pick(PRINCIPAL_IDS);
        const target = before.get(targetId);

        // Bodies start from the actor's or the target's record (so many requests are near the boundary).
        const base: PrincipalRecord = structuredClone(pick([actor.record, target?.record ?? actor.record]));
        const body: Record<string, unknown> = {
          type: base.type,
          groups: base.groups,
          attributes: base.attributes,
          ...(base.quotas ? { quotas: base.quotas } : {}),
          ...Object.fromEntries(
            (
              [
                'permittedEndpoints',
                'filterFields',
                'excludeFields',
                'updateFieldsPermitted',
                'updateFieldsRestricted',
                'admin',
              ] as const
            )
              .filter((key) => base[key] !== undefined)
              .map((key) => [key, base[key]]),
          ),
        };
        for (let m = Math.floor(random() * 3); m > 0; m--) mutate(body);

        const kind = pick(['principal', 'principal', 'principal', 'group', 'delete', 'key', 'revoke', 'policy']);
        let response: request.Response;
        let credentialOf: string | undefined;
        switch (kind) {
          case 'principal': {
            const password = chance(0.05);
            if (password) body.password = 'a-password-for-the-test';
            response = await as(request(app).put(`/admin/principals/${targetId}`)).send(body);
            if (password) credentialOf = targetId;
            break;
          }
          case 'group': {
            const { type: _t, groups: _g, attributes: _a, quotas: _q, ...grants } = body;
            response = await as(request(app).put(`/admin/groups/${pick(GROUP_IDS)}`)).send(grants);
            break;
          }
          case 'delete':
            if (chance(0.5)) {
              response = await as(request(app).delete(`/admin/principals/${targetId}`));
              if (response.status === 204) tokens.delete(targetId);
            } else {
              response = await as(request(app).delete(`/admin/groups/${pick(GROUP_IDS)}`));
            }
            break;
          case 'key': {
            const scopes = chance(0.5) ? [] : some(SCOPES, 0.5);
            response = await mint(targetId, scopes, actorId);
            credentialOf = targetId;
            if (response.status === 201 && credential.scopes.length > 0) {
              expect(scopes, 'a scoped actor minted a wider key').to.not.be.empty;
              for (const scope of scopes) expect(scopeGrants(credential.scopes, scope), scope).to.be.true;
            }
            break;
          }
          case 'revoke': {
            const victim = tokens.get(targetId);
            response = await as(request(app).delete(`/admin/api-keys/${victim?.keyId ?? 'pc_none'}`));
            if (response.status === 204) tokens.delete(targetId);
            break;
          }
          default:
            response = await as(request(app).put('/admin/policies/p')).send({
              effect: 'allow',
              subjects: [{ type: 'Any' }],
              actions: [{ type: 'Any' }],
              resources: [{ type: 'Any' }],
            });
            expect(response.status, 'a non-admin wrote a policy').to.be.oneOf([403]);
        }
        expect(response.status, JSON.stringify(response.body)).to.be.below(500);
        if (response.status === 403) {
          expect(response.body.code).to.be.oneOf(['forbidden.escalation', 'forbidden.endpoint', 'forbidden.scope']);
          tally.refused++;
          if (response.body.code === 'forbidden.escalation') tally.escalations++;
        } else if (response.status < 300) {
          tally.succeeded++;
        }

        const after = await subjects();
        const where = `seed ${seed}, step ${step}: ${actorId} ${kind} ${targetId} ${JSON.stringify(body)}`;
        for (const [id, subject] of after) {
          const caps = capabilities(subject);
          const ungranted = within(caps, granted);
          expect(ungranted, `${id} holds what no admin granted (${where})`).to.deep.equal([]);
          const old = before.get(id);
          const gained = old ? within(caps, capabilities(old)) : [...caps];
          if (gained.length > 0) {
            expect(within(new Set(gained), actorCaps), `${id} gained beyond ${actorId} (${where})`).to.deep.equal([]);
          }
        }
        if (credentialOf && response.status < 300) {
          // Whoever takes over a credential holds the owner's rights: they must already be the actor's.
          tally.credentials++;
          for (const owner of [before.get(credentialOf), after.get(credentialOf)]) {
            if (!owner) continue;
            const beyond = within(capabilities(owner), actorCaps);
            expect(beyond, `${actorId} took over ${credentialOf} (${where})`).to.deep.equal([]);
          }
        }
      }
      // Not vacuous: requests both succeed and get refused, credentials change hands within the rule.
      expect(tally.succeeded, JSON.stringify(tally)).to.be.above(REQUESTS_PER_SEED / 20);
      expect(tally.refused, JSON.stringify(tally)).to.be.above(REQUESTS_PER_SEED / 10);

      function mutate(body: Record<string, unknown>): void {
        const list = (key: string) => ((body[key] as unknown[] | undefined) ?? []).slice();
        switch (Math.floor(random() * 10)) {
          case 0:
            body.permittedEndpoints = [...list('permittedEndpoints'), pick(ENDPOINTS)];
            break;
          case 1:
            body.permittedEndpoints = list('permittedEndpoints').slice(1);
            break;
          case 2:
            body.filterFields = chance(0.5) ? [...list('filterFields'), pick(FILTERS)] : list('filterFields').slice(1);
            break;
          case 3:
            body.excludeFields = chance(0.5) ? [...list('excludeFields'), pick(FIELDS)] : [];
            break;
          case 4:
            body.updateFieldsPermitted = chance(0.5) ? some(FIELDS, 0.5) : [];
            break;
          case 5:
            body.updateFieldsRestricted = chance(0.5) ? [...list('updateFieldsRestricted'), pick(FIELDS)] : [];
            break;
          case 6:
            body.groups = chance(0.5) ? [...new Set([...list('groups'), pick(GROUP_IDS)])] : list('groups').slice(1);
            break;
          case 7: {
            const [key, value] = pick(ATTRIBUTES);
            const attributes = { ...(body.attributes as Record<string, unknown>) };
            if (chance(0.5)) attributes[key] = value;
            else delete attributes[key];
            body.attributes = attributes;
            break;
          }
          case 8:
            if (chance(0.5)) body.quotas = { upload: pick(QUOTA_LIMITS) };
            else delete body.quotas;
            break;
          default:
            if (chance(0.3)) body.admin = true;
            else delete body.admin;
        }
      }
    });
  }
});

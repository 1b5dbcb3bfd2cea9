// Admin routes for ABAC policies in a policy store: list, read, create or replace, delete.
import { integerOption } from '../src/options.js';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { policyFromJSON, policyToJSON } from '../src/abac/policy-json.js';
import { assertNoEscalation, authorityOf, mayWritePolicies } from '../src/auth/escalation.js';
import type { RuleRegistry } from '../src/abac/rules/index.js';
import type { PolicyStore } from '../src/contracts/policies.js';
import { AuthenticationError, ConfigError, NotFoundError, ValidationError } from '../src/errors.js';
import { contextOf } from './context.js';
import { objectBody } from './json-body.js';
import { describeRouter, type DescribedRouter } from './openapi/describe.js';
import { describePolicyAdminRouter } from './openapi/routers.js';

export interface PolicyAdminRouterOptions {
  /** Where policies are kept (a `PolicyMirror` works too: changes reach every process through the store). */
  store: PolicyStore;
  /** Rule types accepted in policy bodies. Default: the built-in and `defineRule` rules. */
  registry?: RuleRegistry;
  /** Largest page of `GET /policies`. Default 500. */
  maxLimit?: number;
}

const UID = /^[A-Za-z0-9._:-]{1,128}$/;

function uidOf(req: Request): string {
  const uid = String(req.params.uid);
  if (!UID.test(uid)) {
    throw new ValidationError('Invalid policy uid.', {
      errors: [{ field: 'uid', message: 'must be 1-128 letters, digits or . _ : -' }],
    });
  }
  return uid;
}

function requirePolicyWriter(req: Request, _res: Response, next: NextFunction): void {
  const { principal, permissions } = contextOf(req);
  if (!principal || principal.kind === 'anonymous' || !permissions) {
    next(new AuthenticationError('Authentication required.', { code: 'authentication.required' }));
    return;
  }
  assertNoEscalation(mayWritePolicies(authorityOf(principal, permissions)));
  next();
}

function pageNumber(req: Request, name: string, fallback: number, max: number): number {
  const raw = req.query[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw) || Number(raw) > max) {
    throw new ValidationError(`Invalid ${name}.`, {
      errors: [{ field: name, message: `must be an integer 0..${max}` }],
    });
  }
  return Number(raw);
}

/**
 * `GET /policies?limit=&offset=`, `GET /policies/:uid`, `PUT /policies/:uid` (body: a policy in the JSON
 * format of docs/abac.md or vakt's `to_json`; 201 when created, 200 when replaced) and
 * `DELETE /policies/:uid` (204). Mount it behind authentication and an admin check. Writes (PUT, DELETE)
 * need a full administrator (`admin: true`): a policy can grant anyone anything, so no narrower caller could
 * write one without escalating (401 without a principal, 403 `forbidden.escalation` otherwise).
 */
export function policyAdminRouter(options: PolicyAdminRouterOptions): Router & DescribedRouter {
  if (typeof options?.store?.add !== 'function') throw new ConfigError('store', 'is required: a PolicyStore');
  const maxLimit = integerOption('maxLimit', options.maxLimit, { fallback: 500, min: 1, max: 10_000 });
  const store = options.store;
  const readOptions = options.registry ? { registry: options.registry } : {};
  const router = Router();
  router.put('/policies/:uid', requirePolicyWriter);
  router.delete('/policies/:uid', requirePolicyWriter);

  router.get('/policies', async (req, res) => {
    const limit = pageNumber(req, 'limit', 100, maxLimit) || 1;
    const offset = pageNumber(req, 'offset', 0, 1_000_000_000);
    const policies = await store.getAll(limit, offset);
    res.json({ items: policies.map(policyToJSON), limit, offset });
  });

  router.get('/policies/:uid', async (req, res) => {
    const policy = await store.get(uidOf(req));
    if (!policy) throw new NotFoundError('No policy with this uid.');
    res.json(policyToJSON(policy));
  });

  router.put('/policies/:uid', async (req, res) => {
    const uid = uidOf(req);
    // express.json() reads an empty body as {}: every field would take its default, a deny for no one,
    // silently replacing the stored policy. No body is refused, whether absent, empty or {}.
    const body = req.body === undefined ? {} : objectBody(req.body);
    if (Object.keys(body).length === 0) {
      throw new ValidationError('The request body is missing: send the policy as a JSON object.', {
        code: 'validation.body',
      });
    }
    const policy = policyFromJSON({ ...body, uid: body.uid ?? uid }, readOptions);
    if (policy.uid !== uid) {
      throw new ValidationError('The uid in the body differs from the path.', {
        errors: [{ field: 'uid', message: `must be ${uid}` }],
      });
    }
    const existing = await store.get(uid);
    if (existing) await store.update(policy);
    else await store.add(policy);
    res.status(existing ? 200 : 201).json(policyToJSON(policy));
  });

  router.delete('/policies/:uid', async (req, res) => {
    if (!(await store.delete(uidOf(req)))) throw new NotFoundError('No policy with this uid.');
    res.status(204).end();
  });

  return describeRouter(router, describePolicyAdminRouter({ maxLimit }));
}

// Record-level ABAC for crudRouter: the guard's policies, partially evaluated for the caller, become part of
// every store query, so lists, counts, cursors and single-record routes agree with guard.decide per record.
import type { Request } from 'express';
import type { Guard } from '../../src/abac/guard.js';
import type { CrudAction } from '../../src/auth/scopes.js';
import { AuthenticationError, ConfigError, ForbiddenError } from '../../src/errors.js';
import { and, matchAll, type FilterNode } from '../../src/filter/index.js';
import { subjectOf } from '../authorize.js';
import { requireClientAddress } from '../client-address.js';
import { contextOf } from '../context.js';
import type { CrudState } from './state.js';

/** Checks the `guard` option once, at creation. */
export function validateGuard(guard: unknown): void {
  if (guard === undefined) return;
  const candidate = guard as Partial<Guard>;
  if (typeof candidate?.queryFor !== 'function' || typeof candidate.decide !== 'function') {
    throw new ConfigError('crudRouter.guard', 'must be a Guard (new Guard({ policies }))');
  }
  if (!candidate.synchronous) {
    throw new ConfigError('crudRouter.guard', 'needs in-memory policies: wrap the policy store in a PolicyMirror');
  }
}

const filters = new WeakMap<Request, Map<CrudAction, FilterNode>>();

/** Every field a filter reads. */
function fieldsOf(node: FilterNode, out: Set<string>): Set<string> {
  if (node.kind === 'cond') out.add(node.field);
  else if (node.kind === 'not') fieldsOf(node.node, out);
  else for (const child of node.nodes) fieldsOf(child, out);
  return out;
}

function unfilterable(detail: string): ForbiddenError {
  return new ForbiddenError(
    `Your access to these records depends on policy rules that cannot run inside a database query (${detail}); ask an administrator to rewrite them.`,
    { code: 'forbidden.unfilterable_policy' },
  );
}

/** The records the caller may perform `action` on: the guard's and the privacy rule's, as one filter. */
export function recordFilter(state: CrudState, req: Request, action: CrudAction): FilterNode {
  const privacy = state.privacy?.filter(req, action) ?? matchAll;
  return and(guardFilter(state, req, action), privacy);
}

/**
 * The records the guard allows the caller to perform `action` on (`<resource>:<action>`), as a filter;
 * `matchAll` without a guard. The inquiry is authorize()'s: the principal's subject, `{ ip, time }` as the context, and the
 * record (as the store returns it) as the resource.
 */
function guardFilter(state: CrudState, req: Request, action: CrudAction): FilterNode {
  const guard = state.options.guard;
  if (!guard) return matchAll;
  let cached = filters.get(req);
  const hit = cached?.get(action);
  if (hit) return hit;
  const principal = contextOf(req).principal;
  if (!principal || principal.kind === 'anonymous') {
    throw new AuthenticationError('Authentication required.', { code: 'authentication.required' });
  }
  const query = guard.queryFor(
    subjectOf(principal, req),
    `${state.resource}:${action}`,
    {},
    { ip: requireClientAddress(req), time: state.now() },
  );
  // Which rules, and where, stays in the server's logs of the policies: policy uids are not the caller's.
  if (query.unfilterable.length > 0) {
    throw unfilterable(
      [...new Set(query.unfilterable.map((rule) => `${rule.rule} on ${rule.path.split('[')[0]}`))].join(', '),
    );
  }
  const encryption = state.blindIndex;
  for (const field of fieldsOf(query.filter, new Set())) {
    // Ciphertext cannot be compared with a policy's values; stored ObjectIds are not the strings decide() sees.
    if (encryption?.isEncrypted(field)) throw unfilterable('a condition on an encrypted field');
    if (
      (field === state.compiler.idField && state.store.idType === 'objectId') ||
      state.compiler.schema.field(field)?.type === 'objectId'
    ) {
      throw unfilterable('a condition on an ObjectId field');
    }
  }
  if (!cached) filters.set(req, (cached = new Map()));
  cached.set(action, query.filter);
  return query.filter;
}

// The escalation rule of every admin route: a caller grants only what it holds, and touches only whom it covers.
import { isDeepStrictEqual } from 'node:util';
import { ForbiddenError, type FieldProblem } from '../errors.js';
import { compileEndpoint } from './endpoints.js';
import type { EffectivePermissions, FieldFilter, PermittedEndpoint, Principal } from './principal.js';
import { scopeGrants } from './scopes.js';

/** What the caller of an admin route holds: its merged grants, what ABAC sees of it, its credential's scopes. */
export interface Authority {
  permissions: EffectivePermissions;
  /** Permission groups (or OIDC groups) of the caller; memberships are rights too (ABAC subjects see them). */
  groups: readonly string[];
  /** The caller's ABAC attributes. */
  attributes: Readonly<Record<string, unknown>>;
  /** Per-principal quota overrides of the caller (action → uses per period). */
  quotas?: Readonly<Record<string, number>> | undefined;
  /** Scopes of the caller's credential; `undefined` or empty means every scope. */
  scopes?: readonly string[] | undefined;
}

/** What a principal or a group holds, as the rule compares it (a group: its grants, no groups, no attributes). */
export interface Holding {
  permissions: EffectivePermissions;
  groups: readonly string[];
  attributes: Readonly<Record<string, unknown>>;
  quotas?: Readonly<Record<string, number>> | undefined;
}

/** The authority of an authenticated request's caller. */
export function authorityOf(principal: Principal, permissions: EffectivePermissions): Authority {
  return {
    permissions,
    groups: principal.groups,
    attributes: principal.attributes,
    quotas: principal.quotas,
    scopes: principal.scopes,
  };
}

/** Full administrators (`admin: true` on the principal or one of its groups) are not bound by the rule. */
export function isFullAdmin(actor: Authority): boolean {
  return actor.permissions.allEndpoints;
}

/**
 * What of `held` the actor does not hold itself, one problem per excess (empty: `held` ⊆ actor). Each
 * dimension is compared on its own, and each is monotone in what it allows, so a holding within the actor
 * in every dimension can do nothing the actor cannot:
 *
 * - admin: only a full admin holds it (and holds everything);
 * - endpoints: each granted endpoint's path is one of the actor's patterns, string-equal, with its methods
 *   among those the actor holds on that pattern; or a literal path (no regex syntax) that one of the
 *   actor's patterns matches for each of its methods (regex inclusion is undecidable in general: this is
 *   the conservative rule);
 * - record filters: every filter of `held` is narrower than one of the actor's (it names every field the
 *   actor's filter names, with a subset of its values); an actor without filters sees every record;
 * - exclusions: `held` excludes every field the actor excludes;
 * - update rights: `held` may update no field the actor may not (restricted and permitted lists);
 * - groups: every group of `held` is one of the actor's;
 * - attributes: every attribute of `held` is the actor's, with the same value;
 * - quotas: `held` has an override for exactly the actions the actor has one for, each at most the actor's
 *   (the default limit is not known here, so no other override is comparable).
 */
export function exceeds(actor: Authority, held: Holding, prefix = ''): FieldProblem[] {
  if (isFullAdmin(actor)) return [];
  const problems: FieldProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field: `${prefix}${field}`, message });
  const mine = actor.permissions;
  const theirs = held.permissions;
  if (theirs.allEndpoints) {
    // An admin holds everything: naming each other dimension would add nothing.
    add('admin', 'only a full administrator may grant admin or act on an administrator');
    return problems;
  }
  theirs.endpoints.forEach((endpoint) => {
    if (!coversEndpoint(mine.endpoints, endpoint)) {
      add('permittedEndpoints', `${endpoint.method} ${endpoint.path} is not among your permitted endpoints`);
    }
  });
  if (!coversFilters(mine.filters, theirs.filters)) {
    add('filterFields', 'would see records outside your own record filters');
  }
  for (const field of mine.excludeFields) {
    if (!theirs.excludeFields.includes(field)) add('excludeFields', `must exclude ${field}, as you do`);
  }
  for (const field of mine.updateFieldsRestricted) {
    if (!theirs.updateFieldsRestricted.includes(field) && !theirs.excludeFields.includes(field)) {
      add('updateFieldsRestricted', `must restrict ${field}, as you do`);
    }
  }
  if (mine.updateFieldsPermitted.length > 0) {
    if (theirs.updateFieldsPermitted.length === 0) {
      add('updateFieldsPermitted', 'would update every field; you may update only some');
    }
    for (const field of theirs.updateFieldsPermitted) {
      const disabled = theirs.updateFieldsRestricted.includes(field) || theirs.excludeFields.includes(field);
      if (!disabled && !mine.updateFieldsPermitted.includes(field)) {
        add('updateFieldsPermitted', `${field} is not among the fields you may update`);
      }
    }
  }
  for (const group of held.groups) {
    if (!actor.groups.includes(group)) add('groups', `you are not a member of ${group}`);
  }
  for (const [key, value] of Object.entries(held.attributes)) {
    if (!Object.hasOwn(actor.attributes, key) || !isDeepStrictEqual(actor.attributes[key], value)) {
      add(`attributes.${key}`, 'is not an attribute you hold with this value');
    }
  }
  const myQuotas = actor.quotas ?? {};
  const theirQuotas = held.quotas ?? {};
  for (const [action, limit] of Object.entries(theirQuotas)) {
    const mine = Object.hasOwn(myQuotas, action) ? myQuotas[action] : undefined;
    if (mine === undefined || limit > mine) add(`quotas.${action}`, 'exceeds your own quota for this action');
  }
  for (const action of Object.keys(myQuotas)) {
    if (!Object.hasOwn(theirQuotas, action)) add(`quotas.${action}`, 'must be limited as yours is');
  }
  return problems;
}

/** True when `held` ⊆ the actor's rights (see `exceeds`). */
export function isSubset(actor: Authority, held: Holding): boolean {
  return exceeds(actor, held).length === 0;
}

/**
 * Problems with a change of one principal or group from `before` to `after` (`undefined`: it does not
 * exist on that side). The actor may not touch anyone it does not cover (so it can neither change a more
 * privileged principal's rights nor take over its credentials), and may not leave anyone with more than it
 * holds itself (so it cannot widen its own rights either).
 */
export function mayGrant(
  actor: Authority,
  before: Holding | undefined,
  after: Holding | undefined,
  label = '',
): FieldProblem[] {
  if (isFullAdmin(actor)) return [];
  const problems = before ? exceeds(actor, before, `${label}current.`) : [];
  // Someone the actor may not touch: saying what the new state would exceed adds nothing.
  if (problems.length > 0) return problems;
  return after ? exceeds(actor, after, label) : [];
}

/**
 * Problems with issuing a credential: `'all'` for a password (a login carries no scopes), else an API
 * key's scopes (empty: every scope). The actor's credential must grant each of them (`scopeGrants`: the
 * scope itself, `*`, or `<prefix>:*` for a scope under that prefix), or carry no scopes.
 */
export function mayIssueCredential(actor: Authority, scopes: readonly string[] | 'all'): FieldProblem[] {
  // Unscoped (or `*`): the caller's credential carries its owner's full rights, as the new one would.
  if (isFullAdmin(actor) || scopeGrants(actor.scopes, '*')) return [];
  const mine = actor.scopes!.join(', ');
  if (scopes === 'all') return [{ field: 'password', message: 'your credential is scoped; a password is not' }];
  if (scopes.length === 0) return [{ field: 'scopes', message: `must be a subset of your scopes (${mine})` }];
  // A scope names a prefix set when it ends in `:*`, so granting it as a requirement is containment.
  return scopes
    .filter((scope) => !scopeGrants(actor.scopes, scope))
    .map((scope) => ({ field: 'scopes', message: `${scope} is not among your scopes (${mine})` }));
}

/** Writing ABAC policies: only full admins, since a policy may grant anyone anything. */
export function mayWritePolicies(actor: Authority | undefined): FieldProblem[] {
  if (actor && isFullAdmin(actor)) return [];
  return [{ field: 'policy', message: 'only a full administrator (admin: true) may write policies' }];
}

/** Throws the 403 `forbidden.escalation` naming every excess, when there is one. */
export function assertNoEscalation(problems: readonly FieldProblem[]): void {
  if (problems.length === 0) return;
  throw new ForbiddenError(
    `This would grant rights you do not hold: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`,
    { code: 'forbidden.escalation', errors: [...problems] },
  );
}

// Characters with no meaning in a regex outside a class: a path made of them matches only itself.
const LITERAL_PATH = /^[A-Za-z0-9/_~%,:@=!-]*$/;

function methodsOf(method: string): ReadonlySet<string> | '*' {
  return method.trim() === '*' ? '*' : new Set(method.split('|').map((m) => m.trim().toUpperCase()));
}

function coversEndpoint(mine: readonly PermittedEndpoint[], wanted: PermittedEndpoint): boolean {
  const wantedMethods = methodsOf(wanted.method);
  const literal = LITERAL_PATH.test(wanted.path);
  const covering = mine.filter(
    (endpoint) => endpoint.path === wanted.path || (literal && compileEndpoint(endpoint).pattern.test(wanted.path)),
  );
  if (covering.some((endpoint) => methodsOf(endpoint.method) === '*')) return true;
  if (wantedMethods === '*') return false;
  const held = new Set<string>();
  for (const endpoint of covering)
    for (const method of methodsOf(endpoint.method) as ReadonlySet<string>) held.add(method);
  return [...wantedMethods].every((method) => held.has(method));
}

function valuesOf(value: FieldFilter[string]): readonly unknown[] {
  return Array.isArray(value) ? value : [value];
}

// Filters are OR'd; inside one, fields are AND'd and a field's values OR'd. `narrow` ⊆ `wide` when it names
// every field `wide` names, each with a subset of its values.
function filterWithin(narrow: FieldFilter, wide: FieldFilter): boolean {
  return Object.keys(wide).every(
    (field) =>
      Object.hasOwn(narrow, field) && valuesOf(narrow[field]!).every((value) => valuesOf(wide[field]!).includes(value)),
  );
}

function coversFilters(mine: readonly FieldFilter[], theirs: readonly FieldFilter[]): boolean {
  if (mine.length === 0) return true;
  if (theirs.length === 0) return false;
  return theirs.every((filter) => mine.some((wide) => filterWithin(filter, wide)));
}

// Merges user and group grants into effective permissions (scoutr's rules) and answers "may I call this?".
import type { FieldFilterRule, GrantValue, Grants } from '../contracts/principals.js';
import type { EffectivePermissions, FieldFilter, PermittedEndpoint } from './principal.js';
import { compileEndpoint } from './endpoints.js';
import { withinRegexBudget } from '../regex.js';

/** No endpoint, no record: what an unknown principal gets. */
export function noPermissions(): EffectivePermissions {
  return {
    endpoints: [],
    allEndpoints: false,
    filters: [],
    excludeFields: [],
    updateFieldsPermitted: [],
    updateFieldsRestricted: [],
  };
}

/**
 * Combines a principal's own grants with those of the groups it belongs to (scoutr's model: user-level
 * grants add to the groups', they never override them).
 *
 * - endpoints, excluded fields and the update lists are the union of every grant;
 * - every field filter joins ONE filter: filters on different fields are AND'd, values on the same field
 *   are OR'd (`field IN [...]`);
 * - `admin` on any grant gives every endpoint.
 */
export function mergePermissions(userGrants: Grants | undefined, groups: readonly Grants[] = []): EffectivePermissions {
  const all = userGrants ? [userGrants, ...groups] : [...groups];
  const endpoints = new EndpointSet();
  const filter = new Map<string, GrantValue[]>();
  const exclude = new Set<string>();
  const permitted = new Set<string>();
  const restricted = new Set<string>();
  let allEndpoints = false;
  for (const grants of all) {
    if (grants.admin === true) allEndpoints = true;
    for (const endpoint of grants.permittedEndpoints ?? []) endpoints.add(endpoint);
    for (const rule of grants.filterFields ?? []) addRule(filter, rule);
    for (const field of grants.excludeFields ?? []) exclude.add(field);
    for (const field of grants.updateFieldsPermitted ?? []) permitted.add(field);
    for (const field of grants.updateFieldsRestricted ?? []) restricted.add(field);
  }
  return {
    endpoints: endpoints.values(),
    allEndpoints,
    filters: filter.size === 0 ? [] : [toFieldFilter(filter)],
    excludeFields: [...exclude],
    updateFieldsPermitted: [...permitted],
    updateFieldsRestricted: [...restricted],
  };
}

/**
 * Combines the permissions of several alternatives (the OIDC groups a user belongs to, each already merged
 * with its own child groups): record filters are OR'd, so a record visible through any group is visible;
 * one alternative without filters makes every record visible. Endpoints are united; excluded and
 * restricted fields are united too, since they cannot be attributed to a single filter (the safe side).
 */
export function combineAlternatives(alternatives: readonly EffectivePermissions[]): EffectivePermissions {
  if (alternatives.length === 0) return noPermissions();
  if (alternatives.length === 1) return alternatives[0]!;
  const endpoints = new EndpointSet();
  const exclude = new Set<string>();
  const permitted = new Set<string>();
  const restricted = new Set<string>();
  const filters: FieldFilter[] = [];
  let unfiltered = false;
  let allEndpoints = false;
  for (const alternative of alternatives) {
    allEndpoints ||= alternative.allEndpoints;
    for (const endpoint of alternative.endpoints) endpoints.add(endpoint);
    if (alternative.filters.length === 0) unfiltered = true;
    filters.push(...alternative.filters);
    for (const field of alternative.excludeFields) exclude.add(field);
    for (const field of alternative.updateFieldsPermitted) permitted.add(field);
    for (const field of alternative.updateFieldsRestricted) restricted.add(field);
  }
  return {
    endpoints: endpoints.values(),
    allEndpoints,
    filters: unfiltered ? [] : filters,
    excludeFields: [...exclude],
    updateFieldsPermitted: [...permitted],
    updateFieldsRestricted: [...restricted],
  };
}

const MAX_PATH_LENGTH = 4096;
// A `.` or `..` segment: a pattern such as `/accounts/*` would match `/accounts/../admin/principals`, which
// names another endpoint. A backslash separates segments too for some proxies and file servers.
const DOT_SEGMENT = /(?:^|[/\\])\.{1,2}(?:[/\\]|$)/;
// The escapes that can hide one: `.`, `/`, `\` and `%` itself (`%252e` is `%2e` once a proxy decoded it).
const HIDING_ESCAPE = /%(?:2e|2f|5c|25)/gi;
const UNESCAPED: Record<string, string> = { '2e': '.', '2f': '/', '5c': '\\', '25': '%' };
const MAX_DECODINGS = 3;

/**
 * True when `path` holds a dot segment, as written or once its separators and dots are percent-decoded
 * (`/accounts/acc_1%2F..%2F..%2Fadmin` is one segment to the router, but a step up to whatever decodes it
 * later). Only those escapes are decoded, so a path with other `%` text is still judged; more than
 * `MAX_DECODINGS` layers of them is refused, as no client sends that.
 */
function hasDotSegment(path: string): boolean {
  let current = path;
  for (let round = 0; round <= MAX_DECODINGS; round++) {
    if (DOT_SEGMENT.test(current)) return true;
    const decoded = current.replace(HIDING_ESCAPE, (escape) => UNESCAPED[escape.slice(1).toLowerCase()]!);
    if (decoded === current) return false;
    current = decoded;
  }
  return true;
}

/** True when `permissions` allow `method` on `path` (the path without its query string). */
export function isEndpointPermitted(
  permissions: EffectivePermissions | undefined,
  method: string,
  path: string,
): boolean {
  if (!permissions) return false;
  if (permissions.allEndpoints) return true;
  if (typeof path !== 'string' || path.length > MAX_PATH_LENGTH || typeof method !== 'string') return false;
  if (hasDotSegment(path)) return false;
  const upper = method.toUpperCase();
  return withinRegexBudget(() => {
    for (const endpoint of permissions.endpoints) {
      const compiled = compileEndpoint(endpoint);
      // HEAD follows GET: Express answers it with the GET route, minus the body.
      if (
        compiled.methods !== '*' &&
        !compiled.methods.has(upper) &&
        !(upper === 'HEAD' && compiled.methods.has('GET'))
      )
        continue;
      if (compiled.pattern.test(path)) return true;
    }
    return false;
  });
}

/** True when the update touches only fields the permissions allow (scoutr's update lists and exclusions). */
export function forbiddenUpdateFields(permissions: EffectivePermissions, fields: readonly string[]): string[] {
  const permitted = permissions.updateFieldsPermitted;
  return fields.filter(
    (field) =>
      permissions.excludeFields.includes(field) ||
      permissions.updateFieldsRestricted.includes(field) ||
      (permitted.length > 0 && !permitted.includes(field)),
  );
}

class EndpointSet {
  readonly #seen = new Map<string, PermittedEndpoint>();
  add(endpoint: PermittedEndpoint): void {
    const key = `${endpoint.method.toUpperCase()} ${endpoint.path}`;
    if (!this.#seen.has(key)) this.#seen.set(key, { method: endpoint.method, path: endpoint.path });
  }
  values(): PermittedEndpoint[] {
    return [...this.#seen.values()];
  }
}

function addRule(filter: Map<string, GrantValue[]>, rule: FieldFilterRule): void {
  const values = filter.get(rule.field) ?? [];
  for (const value of Array.isArray(rule.value) ? rule.value : [rule.value]) {
    if (!values.includes(value)) values.push(value);
  }
  filter.set(rule.field, values);
}

function toFieldFilter(filter: Map<string, GrantValue[]>): FieldFilter {
  // A null prototype: field names come from stored grants and must never reach Object.prototype.
  const result = Object.create(null) as FieldFilter;
  for (const [field, values] of filter) result[field] = values.length === 1 ? values[0]! : values;
  return result;
}

// Credential scopes: the scope an action needs by default, and whether a credential's scopes grant it.

/** How much of a resource a scope lets a credential touch. */
export type ScopeLevel = 'read' | 'write' | 'delete';

/** The actions of `crudRouter`, as its `authorize` hook and its `scopes` option name them. */
export type CrudAction = 'list' | 'read' | 'history' | 'create' | 'update' | 'restore' | 'delete' | 'purge';

/** The default scope of each CRUD action is `<resource>:<level>`. */
export const CRUD_SCOPE_LEVELS: Readonly<Record<CrudAction, ScopeLevel>> = Object.freeze({
  list: 'read',
  read: 'read',
  history: 'read',
  create: 'write',
  update: 'write',
  restore: 'write',
  delete: 'delete',
  purge: 'delete',
});

// Action verbs (the part after the last `:`, or the whole action) and HTTP methods, by level.
const VERB_LEVELS: ReadonlyMap<string, ScopeLevel> = new Map<string, ScopeLevel>([
  ...Object.entries(CRUD_SCOPE_LEVELS),
  ...['get', 'head', 'options', 'unique', 'search', 'history'].map((verb): [string, ScopeLevel] => [verb, 'read']),
  ...['post', 'put', 'patch', 'replace', 'write'].map((verb): [string, ScopeLevel] => [verb, 'write']),
]);

/** The scope syntax accepted for keys and options: letters, digits and `_ : . * -`, 1 to 128 characters. */
export const SCOPE_PATTERN = /^[\w:.*-]{1,128}$/;

/** The level of a verb or HTTP method (case-insensitive); `undefined` when it is neither. */
export function verbLevel(verb: string): ScopeLevel | undefined {
  return VERB_LEVELS.get(verb.toLowerCase());
}

/** The level of an HTTP method: safe methods read, `DELETE` deletes, every other method writes. */
export function methodLevel(method: string): ScopeLevel {
  const level = verbLevel(method);
  return level === 'delete' || level === 'read' ? level : 'write';
}

/**
 * The default scope of `authorize()`: an action `<name>:<verb>` with a known verb needs `<name>:<level>`
 * (`accounts:update` → `accounts:write`, `audit:read` → `audit:read`); otherwise the scope is
 * `<resource>:<level>`, the level that of the verb when the action is one (`read`), else of the HTTP method.
 */
export function defaultScope(action: unknown, resource: string, method: string): string {
  if (typeof action === 'string') {
    const colon = action.lastIndexOf(':');
    const level = verbLevel(action.slice(colon + 1));
    if (level) return `${colon > 0 ? action.slice(0, colon) : resource}:${level}`;
  }
  return `${resource}:${methodLevel(method)}`;
}

/**
 * The scope a call `METHOD path` needs by the defaults: `<first path segment>:<level of the method>`
 * (`PATCH /accounts/acc_1` → `accounts:write`), what a `crudRouter` mounted at its resource's name, an
 * `authorize()` without a resource name and a `principalAdminRouter` at `/admin` require.
 */
export function pathScope(method: string, path: string): string {
  return defaultScope(undefined, path.split('/').find((segment) => segment !== '') ?? 'root', method);
}

/**
 * True when a credential with `scopes` may do what needs `required`. No scopes (`undefined`, or the empty
 * list of a key created without scopes) means no restriction beyond the owner's own rights; otherwise one of
 * them must be `required` itself, `*`, or `<resource>:*` for a `required` of `<resource>:<level>`.
 */
export function scopeGrants(scopes: readonly string[] | undefined, required: string): boolean {
  if (scopes === undefined || scopes.length === 0) return true;
  for (const scope of scopes) {
    if (scope === required || scope === '*') return true;
    if (scope.endsWith(':*') && required.startsWith(scope.slice(0, -1)) && required.length > scope.length - 1)
      return true;
  }
  return false;
}

// Who is calling: the authenticated principal and the effective permissions merged from its grants.
// Shared by authenticate (which sets them), authorize, the CRUD routers, masking and audit (which read them).

export type PrincipalKind = 'user' | 'apiKey' | 'oidc' | 'anonymous';

export interface Principal {
  /** Stable id: user id, API key id's owner, or the OIDC subject. */
  id: string;
  kind: PrincipalKind;
  name?: string;
  email?: string;
  /** Group names (scoutr groups or OIDC groups). */
  groups: string[];
  /** Set when an API key authenticated the request (its public id, never the secret). */
  apiKeyId?: string;
  /** Scopes of the API key or token, when any. */
  scopes?: string[];
  /** The session id (JWT `jti`) when a session authenticated the request. */
  sessionId?: string;
  /** Per-principal quota overrides (action name → uses per period), from the principal's record. */
  quotas?: Record<string, number>;
  /** Free attributes; they become the ABAC subject together with the fields above. */
  attributes: Record<string, unknown>;
}

/** One permitted endpoint: an HTTP method (or `*`) and a fully anchored path regex (scoutr). */
export interface PermittedEndpoint {
  method: string;
  path: string;
}

/**
 * A field filter that limits which records a principal sees: `{ field: value }` or `{ field: [values] }`.
 * Several filters are OR'd (several groups); inside one filter, different fields are AND'd and a list of
 * values on one field is OR'd (scoutr's merging rules).
 */
export type FieldFilter = Record<string, string | number | boolean | (string | number | boolean)[]>;

/** The merged grants of a principal, computed once per request. */
export interface EffectivePermissions {
  /** Endpoints the principal may call; empty means none (unless `allEndpoints`). */
  endpoints: PermittedEndpoint[];
  /** True for admins: every endpoint. */
  allEndpoints: boolean;
  /** Record filters, OR'd; empty means every record. */
  filters: FieldFilter[];
  /** Fields never returned to or accepted from this principal. */
  excludeFields: string[];
  /** When non-empty, the only fields this principal may update. */
  updateFieldsPermitted: string[];
  /** Fields this principal may never update. */
  updateFieldsRestricted: string[];
}

declare module '../context.js' {
  interface RequestContext {
    /** Set by `authenticate()`. */
    principal?: Principal;
    /** Set by `authenticate()` from the principal's user and group grants. */
    permissions?: EffectivePermissions;
  }
}

// Guards a route with the principal's permitted endpoints (scoutr's check before any action) and API-key scopes.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isEndpointPermitted } from '../src/auth/permissions.js';
import { methodLevel, SCOPE_PATTERN, scopeGrants } from '../src/auth/scopes.js';
import { AuthenticationError, ConfigError, ForbiddenError } from '../src/errors.js';
import { contextOf } from './context.js';
import { describeGuard } from './openapi/describe.js';

export interface PermittedEndpointOptions {
  /**
   * With a name, the credential's scopes must also grant `<name>:read` (GET, HEAD, OPTIONS), `<name>:delete`
   * (DELETE) or `<name>:write` (any other method): 403 `forbidden.scope`. Default: no scope check.
   */
  scopePrefix?: string;
}

/** 403 unless the principal may call `METHOD <mounted path>`; 401 when `authenticate()` did not run. */
export function requirePermittedEndpoint(options: PermittedEndpointOptions = {}): RequestHandler {
  const prefix = options.scopePrefix;
  if (prefix !== undefined && (typeof prefix !== 'string' || !SCOPE_PATTERN.test(`${prefix}:delete`))) {
    throw new ConfigError('scopePrefix', 'must be a scope name (letters, digits, "_", ":", ".", "-")');
  }
  return function portcullisPermittedEndpoint(req: Request, _res: Response, next: NextFunction) {
    const { principal, permissions } = contextOf(req);
    if (!principal || principal.kind === 'anonymous') {
      next(new AuthenticationError('Authentication required.', { code: 'authentication.required' }));
      return;
    }
    const path = req.baseUrl + req.path;
    if (!isEndpointPermitted(permissions, req.method, path)) {
      next(new ForbiddenError(`You may not call ${req.method} ${path}.`, { code: 'forbidden.endpoint' }));
      return;
    }
    next(prefix === undefined ? undefined : scopeDenial(req, `${prefix}:${methodLevel(req.method)}`));
  };
}

/**
 * The 403 for a request whose credential's scopes do not grant `scope`; `undefined` when they do (or when
 * the credential has none: sessions, tokens without a `scope` claim, keys created without scopes).
 */
export function scopeDenial(req: Request, scope: string): ForbiddenError | undefined {
  if (scopeGrants(contextOf(req).principal?.scopes, scope)) return undefined;
  return new ForbiddenError(`This credential lacks the scope ${scope}.`, { code: 'forbidden.scope' });
}

/** 403 `forbidden.scope` unless the credential's scopes grant `scope` (see `scopeGrants`). */
export function requireScope(scope: string): RequestHandler {
  if (typeof scope !== 'string' || !SCOPE_PATTERN.test(scope)) {
    throw new ConfigError('scope', 'must be a scope name (letters, digits, "_", ":", ".", "*", "-"; 1-128 characters)');
  }
  return describeGuard(
    function portcullisRequireScope(req: Request, _res: Response, next: NextFunction) {
      next(scopeDenial(req, scope));
    },
    { 403: ['forbidden.scope'] },
  );
}

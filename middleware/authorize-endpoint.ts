// Guards a route with the principal's permitted endpoints (scoutr's check before any action) and API-key scopes.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isEndpointPermitted } from '../src/auth/permissions.js';
import { AuthenticationError, ConfigError, ForbiddenError } from '../src/errors.js';
import { contextOf } from './context.js';

/** 403 unless the principal may call `METHOD <mounted path>`; 401 when `authenticate()` did not run. */
export function requirePermittedEndpoint(): RequestHandler {
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
    next();
  };
}

/** 403 unless the credential carries `scope` (or `*`); principals without scopes (full grants) pass. */
export function requireScope(scope: string): RequestHandler {
  if (typeof scope !== 'string' || scope.length === 0) throw new ConfigError('scope', 'must be a non-empty string');
  return function portcullisRequireScope(req: Request, _res: Response, next: NextFunction) {
    const scopes = contextOf(req).principal?.scopes;
    if (scopes && scopes.length > 0 && !scopes.includes(scope) && !scopes.includes('*')) {
      next(new ForbiddenError(`This credential lacks the scope ${scope}.`, { code: 'forbidden.scope' }));
      return;
    }
    next();
  };
}

// authenticate(): tries the configured strategies in order and puts the principal and permissions on the context.
import { checkOptions } from '../src/options.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { noPermissions } from '../src/auth/permissions.js';
import type { EffectivePermissions, Principal } from '../src/auth/principal.js';
import { AuthenticationError, ConfigError } from '../src/errors.js';
import type { AuthStrategy } from './auth-strategies.js';
import { contextOf } from './context.js';

export interface AuthenticateOptions {
  /** Strategies in the order they are tried; the first that finds a credential decides. Required. */
  strategies: readonly AuthStrategy[];
  /** Let requests without any credential through as the anonymous principal. Default false (401). */
  allowAnonymous?: boolean;
  /** Permissions of the anonymous principal. Default: none. */
  anonymousPermissions?: EffectivePermissions;
  /** `realm` of the `WWW-Authenticate` challenge. Default `portcullis`. */
  realm?: string;
}

const KNOWN = ['strategies', 'allowAnonymous', 'anonymousPermissions', 'realm'];

export const ANONYMOUS_ID = 'anonymous';

/**
 * Authenticates every request. A bad credential is always 401 (never a fall-through to anonymous); a
 * store outage is 503. Sets `contextOf(req).principal` and `.permissions`.
 */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  if (isRequest(options)) {
    throw new TypeError(
      'authenticate must be called with options: app.use(authenticate({ strategies })), not app.use(authenticate)',
    );
  }
  checkOptions('authenticate()', options, KNOWN);
  const strategies = options?.strategies;
  if (!Array.isArray(strategies) || strategies.length === 0) {
    throw new ConfigError('strategies', 'must list at least one strategy (apiKeyStrategy, jwtStrategy, proxyStrategy)');
  }
  for (const [index, strategy] of strategies.entries()) {
    if (typeof strategy?.authenticate !== 'function') {
      throw new ConfigError(`strategies[${index}]`, 'has no authenticate(req) method');
    }
  }
  const allowAnonymous = options.allowAnonymous ?? false;
  const anonymousPermissions = options.anonymousPermissions ?? noPermissions();
  const realm = options.realm ?? 'portcullis';
  if (!/^[\x20-\x7e]{1,64}$/.test(realm) || realm.includes('"'))
    throw new ConfigError('realm', 'must be printable ASCII without quotes');

  return async function portcullisAuthenticate(req: Request, _res: Response, next: NextFunction) {
    const context = contextOf(req);
    for (const strategy of strategies) {
      const result = await strategy.authenticate(req);
      if (result) {
        context.principal = result.principal;
        context.permissions = result.permissions;
        next();
        return;
      }
    }
    if (!allowAnonymous) {
      throw new AuthenticationError('Authentication required.', {
        code: 'authentication.required',
        challenge: `Bearer realm="${realm}"`,
      });
    }
    context.principal = anonymousPrincipal();
    context.permissions = anonymousPermissions;
    next();
  };
}

export function anonymousPrincipal(): Principal {
  return { id: ANONYMOUS_ID, kind: 'anonymous', groups: [], attributes: {} };
}

function isRequest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'method' in value && 'headers' in value && 'url' in value;
}

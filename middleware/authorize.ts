// authorize(): builds an ABAC inquiry from the request and the authenticated principal, asks the guard,
// puts the decision on the request context and answers 401 (no principal) or 403 (denied).
import { checkOptions } from '../src/options.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Guard, type GuardOptions, type PolicySource } from '../src/abac/guard.js';
import type { Inquiry } from '../src/abac/inquiry.js';
import type { Decision } from '../src/abac/decision.js';
import type { Principal } from '../src/auth/principal.js';
import { systemClock, type Clock } from '../src/clock.js';
import { requireClientAddress } from './client-address.js';
import { AuthenticationError, ConfigError, ForbiddenError } from '../src/errors.js';
import { defaultScope, SCOPE_PATTERN } from '../src/auth/scopes.js';
import { scopeDenial } from './authorize-endpoint.js';
import { contextOf } from './context.js';
import type { ProblemCodes } from '../src/openapi/problems.js';
import { describeGuard } from './openapi/describe.js';

/** Anything that decides an inquiry: a `Guard`, or your own wrapper around one. */
export interface DecisionMaker {
  decide(inquiry: Inquiry): Promise<Decision>;
}

export interface AuthorizeOptions {
  /** Who decides. Give this, or `policies` (a Guard is built from them). */
  guard?: DecisionMaker;
  /** Policies for a guard built here: a list, a PolicySet, a PolicyMirror or a PolicyStore. */
  policies?: PolicySource;
  /** Checker of that guard. Default `rules`. */
  checker?: GuardOptions['checker'];
  /** Decision cache of that guard. Default `false`. */
  cache?: GuardOptions['cache'];
  /** The action: a fixed name (e.g. `accounts:update`) or a function of the request. Default: the HTTP method, lower-cased. */
  action?: string | ((req: Request) => unknown);
  /**
   * The resource: a name, giving `{ name, ...req.params }`, or a function of the request. Default: the
   * mounted route path (e.g. `/accounts/:id`) as the name, with the route params.
   */
  resource?: string | ((req: Request) => unknown);
  /**
   * The credential scope the route needs, checked before the policies (403 `forbidden.scope`): a scope, a
   * function of the request (`undefined`: none), or `false` for no check. Default: `<name>:<level>` from the
   * action, the resource and the HTTP method (`defaultScope`, see docs/auth.md "Scopes").
   */
  scope?: string | false | ((req: Request) => string | undefined);
  /** The subject. Default: the principal's attributes plus `id`, `kind`, `groups`, `apiKeyId`, `name`, `email`. */
  subject?: (principal: Principal, req: Request) => unknown;
  /** The context. Default: `{ ip, time, ...allowlisted headers }` (see `headers`); `ip` is `req.ip`, IPv4-mapped as IPv4. */
  context?: (req: Request, defaults: Record<string, unknown>) => Record<string, unknown>;
  /** Request headers copied into the context under their lower-case names. Default: none. */
  headers?: string[];
  /** Let the anonymous principal through to the guard (its `kind` is `anonymous`). Default `false`: 401. */
  allowAnonymous?: boolean;
  /** Clock for `context.time` (milliseconds since the epoch). Default `Date.now`. */
  now?: Clock;
}

const OPTION_NAMES = [
  'guard',
  'policies',
  'checker',
  'cache',
  'action',
  'resource',
  'scope',
  'subject',
  'context',
  'headers',
  'allowAnonymous',
  'now',
];

/** What an `authorize()` guard answers, for the OpenAPI description of the routes behind it. */
const AUTHORIZE_CODES: ProblemCodes = {
  400: ['validation.client_address'],
  401: ['authentication.required'],
  403: ['forbidden.scope', 'forbidden.policy'],
};

const DENIED: Record<string, string> = {
  'no policy allows this': 'No policy allows this request.',
  'denied by policy': 'A policy denies this request.',
  'the decision failed': 'The access decision could not be made.',
};

/**
 * The ABAC subject of a principal: its free attributes, then the fields authentication vouches for. Not its
 * credential's scopes: they narrow what the owner may do and must not become a way for policies to widen it.
 * With the request, also the roles its memberships imply (`privacyRoles`, set by a crudRouter's `privacy`; an
 * attribute of that name is never copied).
 */
export function subjectOf(principal: Principal, req?: Request): Record<string, unknown> {
  // Copied key by key: adding properties to an object made by spread is pathologically slow in V8 (µs).
  const subject: Record<string, unknown> = {};
  for (const key of Object.keys(principal.attributes)) {
    // `privacyRoles` is only ever what the memberships imply: an attribute of that name must not pose as one.
    if (key !== '__proto__' && key !== 'privacyRoles') subject[key] = principal.attributes[key];
  }
  subject.id = principal.id;
  subject.kind = principal.kind;
  subject.groups = [...principal.groups];
  if (principal.apiKeyId !== undefined) subject.apiKeyId = principal.apiKeyId;
  if (principal.name !== undefined) subject.name = principal.name;
  if (principal.email !== undefined) subject.email = principal.email;
  const roles = req?.portcullis?.privacyRoles;
  if (roles !== undefined) subject.privacyRoles = [...roles];
  return subject;
}

/** Guards a route with ABAC policies. All options are checked here, once. */
export function authorize(options: AuthorizeOptions): RequestHandler {
  // `app.use(authorize)` passes (req, res, next): explain instead of failing per request.
  if (arguments.length === 3 || (options && 'method' in options && 'headers' in options)) {
    throw new TypeError('authorize must be called with options: app.use(authorize({ guard })), not app.use(authorize)');
  }
  if (!options || typeof options !== 'object') throw new ConfigError('authorize', 'options are required: { guard }');
  checkOptions('authorize()', options, OPTION_NAMES, { path: 'authorize' });
  const guard = resolveGuard(options);
  const action = options.action ?? ((req: Request) => req.method.toLowerCase());
  if (typeof action !== 'string' && typeof action !== 'function') {
    throw new ConfigError('authorize.action', 'must be a string or a function of the request');
  }
  const resource = options.resource;
  if (resource !== undefined && typeof resource !== 'string' && typeof resource !== 'function') {
    throw new ConfigError('authorize.resource', 'must be a string or a function of the request');
  }
  for (const name of ['subject', 'context'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new ConfigError(`authorize.${name}`, 'must be a function');
    }
  }
  const headers = (options.headers ?? []).map((header) => {
    if (typeof header !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(header)) {
      throw new ConfigError('authorize.headers', `"${String(header)}" is not a header name`);
    }
    return header.toLowerCase();
  });
  const scope = options.scope;
  if (
    scope !== undefined &&
    scope !== false &&
    typeof scope !== 'function' &&
    (typeof scope !== 'string' || !SCOPE_PATTERN.test(scope))
  ) {
    throw new ConfigError('authorize.scope', 'must be a scope name, false, or a function of the request');
  }
  const now = options.now ?? systemClock;
  const subjectFor = options.subject ?? subjectOf;
  const allowAnonymous = options.allowAnonymous ?? false;

  const handler = async function portcullisAuthorize(req: Request, _res: Response, next: NextFunction) {
    try {
      const context = contextOf(req);
      const principal = context.principal;
      if (!principal || (principal.kind === 'anonymous' && !allowAnonymous)) {
        next(new AuthenticationError('Authentication required.', { code: 'authentication.required' }));
        return;
      }
      const inquiryAction = typeof action === 'string' ? action : action(req);
      // Scopes narrow the owner's rights: checked before, and never instead of, the policies.
      if (principal.scopes !== undefined && principal.scopes.length > 0 && scope !== false) {
        const required =
          typeof scope === 'string'
            ? scope
            : typeof scope === 'function'
              ? scope(req)
              : defaultScope(inquiryAction, resourceName(req, resource), req.method);
        const denial = required === undefined ? undefined : scopeDenial(req, String(required));
        if (denial) {
          next(denial);
          return;
        }
      }
      // One form per client: an IPv4 client on a dual-stack listener is `127.0.0.1`, not `::ffff:127.0.0.1`.
      const defaults: Record<string, unknown> = { ip: requireClientAddress(req), time: now() };
      for (const header of headers) {
        const value = req.headers[header];
        if (value !== undefined && !Object.hasOwn(defaults, header)) defaults[header] = value;
      }
      const inquiry: Inquiry = {
        subject: subjectFor(principal, req),
        action: inquiryAction,
        resource: resourceOf(req, resource),
        context: options.context ? options.context(req, defaults) : defaults,
      };
      const decision = await guard.decide(inquiry);
      context.decision = decision;
      if (decision.allowed) {
        next();
        return;
      }
      next(new ForbiddenError(DENIED[decision.reason] ?? 'Access denied.', { code: 'forbidden.policy' }));
    } catch (error) {
      next(error);
    }
  };
  return describeGuard(handler, AUTHORIZE_CODES);
}

function resolveGuard(options: AuthorizeOptions): DecisionMaker {
  if (options.guard !== undefined) {
    if (options.policies !== undefined) throw new ConfigError('authorize.policies', 'give either guard or policies');
    if (typeof options.guard?.decide !== 'function') {
      throw new ConfigError('authorize.guard', 'must have a decide(inquiry) method (a Guard)');
    }
    return options.guard;
  }
  if (options.policies === undefined) throw new ConfigError('authorize.guard', 'is required (or give policies)');
  try {
    return new Guard({ policies: options.policies, checker: options.checker, cache: options.cache });
  } catch (error) {
    throw new ConfigError('authorize.policies', (error as Error).message, { cause: error });
  }
}

function routePath(req: Request): string {
  return `${req.baseUrl}${typeof req.route?.path === 'string' ? req.route.path : req.path}`;
}

/** The resource part of the default scope: the `resource` name, else the route's first path segment. */
function resourceName(req: Request, resource: AuthorizeOptions['resource']): string {
  if (typeof resource === 'string') return resource;
  return (
    routePath(req)
      .split('/')
      .find((segment) => segment !== '') ?? 'root'
  );
}

function resourceOf(req: Request, resource: AuthorizeOptions['resource']): unknown {
  if (typeof resource === 'function') return resource(req);
  const name = resource ?? routePath(req);
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(req.params ?? {})) if (typeof value === 'string') result[key] = value;
  result.name = name;
  return result;
}

// The demo app: a customer-accounts API composing every Portcullis capability in the order of DESIGN.md.
import express, { type Express, type Request, type RequestHandler } from 'express';
import {
  auditRouter,
  auditTrail,
  authorize,
  contextOf,
  createHistory,
  crudRouter,
  errorHandler,
  healthHandler,
  jsonBody,
  notFoundHandler,
  openApiRoute,
  policyAdminRouter,
  requestContext,
  securityHeaders,
  version,
  type Auth,
  type AuditPipeline,
  type Config,
  type Guard,
  type Logger,
  type Metrics,
  type PiiMasker,
  type PolicyStore,
  type RecordStore,
  type UnmaskGrant,
} from 'portcullis';
import { type Stores } from 'portcullis/stores';
import { subjectOf } from '../../middleware/authorize.js';
import { accountValidators } from './accounts.js';

export interface DemoParts {
  config: Config;
  stores: Stores;
  logger: Logger;
  auth: Auth;
  guard: Guard;
  /** The policies the guard decides with (a mirror of the policy store); the admin routes write here. */
  policies: PolicyStore;
  pipeline: AuditPipeline;
  /** Masks audit events and logs: recognizers scan every string. */
  masker: PiiMasker;
  /** Masks account responses: the PII fields' rules, recognizers in `notes` only. */
  accountsMasker: PiiMasker;
  metrics: Metrics;
  /** The accounts collection (memory or MongoDB), with the national id encrypted. */
  accounts: RecordStore;
  /** PII_UNMASK_GROUPS: members see everything unmasked. */
  unmaskGroups: (principal: { groups: readonly string[] } | undefined) => UnmaskGrant | undefined;
  /** Blind index of the encrypted national id, for equality search. */
  blindIndex?: Parameters<typeof crudRouter>[0]['blindIndex'];
}

/** Fields whose clear text needs the `read:pii` permission on that field. */
export const PII_FIELDS = ['email', 'phone', 'nationalId', 'notes'] as const;

export function buildDemoApp(parts: DemoParts): Express {
  const { config, stores, logger, auth, guard, pipeline, masker, metrics } = parts;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  // The querystring parser must not build objects from `a[$ne]=1`: the filter language reads raw strings.
  app.set('query parser', 'simple');

  app.use(securityHeaders());
  app.use(metrics.middleware);
  // The audit masker vets a supplied request id: it is stored unmasked in events and logs.
  app.use(requestContext({ masker }));
  app.use(jsonBody({ limit: config.BODY_LIMIT, maxDepth: config.BODY_MAX_DEPTH }));

  app.get('/health', healthHandler({ stores, version }));
  app.get('/metrics', metrics.handler);

  // Credential guessing is stopped inside authentication, per (address, account) and per address (createAuth's
  // failure limit), not by a limiter of failed requests per address: that one let anyone behind the same
  // address (an office, a NAT) lock out everyone else there.
  const onLimited = (name: string) => metrics.recordRateLimitHit(name);
  app.use(auditTrail({ pipeline, logger, durability: config.AUDIT_DURABILITY }));
  const authRoutes = auth.authRouter();
  app.use('/auth', authRoutes);
  app.use(auth.authenticate());
  app.use(auth.rateLimit({ onLimited }));

  const can = (action: string, resource: string): RequestHandler => authorize({ guard, action, resource });

  /** What the caller may see unmasked: each PII field its principal has `read:pii` on. */
  const unmask = (req: Request): UnmaskGrant | undefined => {
    const principal = contextOf(req).principal;
    if (!principal) return undefined;
    const everything = parts.unmaskGroups(principal);
    if (everything) return everything;
    const subject = subjectOf(principal);
    const fields = PII_FIELDS.filter((field) =>
      guard.isAllowed({ subject, action: 'read:pii', resource: { field }, context: {} }),
    );
    return { fields, labels: fields.includes('notes') ? ['email', 'phone', 'card', 'iban', 'ssn'] : [] };
  };

  const accounts = crudRouter({
    resource: 'accounts',
    store: parts.accounts,
    validators: accountValidators,
    authorize: (action) => can(action, 'accounts'),
    masker: parts.accountsMasker,
    unmask,
    history: createHistory(stores.audit),
    blindIndex: parts.blindIndex,
    bodyLimit: config.BODY_LIMIT,
    ...(config.CURSOR_SECRET ? { cursorSecret: config.CURSOR_SECRET } : {}),
  });
  app.use('/accounts', accounts);

  const audit = auditRouter({ store: stores.audit, masker, unmaskGrant: unmask, guard: can('audit:read', 'audit') });
  app.use('/audit', audit);

  const adminOnly = can('admin', 'admin');
  const principalAdmin = auth.principalAdminRouter();
  app.use('/admin', adminOnly, principalAdmin);
  // Writes go through the mirror the guard decides with, so this process enforces a policy before its 201.
  const policyAdmin = policyAdminRouter({ store: parts.policies });
  app.use('/admin', adminOnly, policyAdmin);

  // Each caller gets the routes with the fields it may see (docs/openapi.md).
  const mounts = {
    '/auth': authRoutes,
    '/accounts': accounts,
    '/audit': audit,
    '/admin': [adminOnly, principalAdmin, policyAdmin],
  };
  app.get(
    '/openapi.json',
    openApiRoute({ info: { title: 'Portcullis demo', version }, mounts, security: auth.strategies }),
  );

  app.use(notFoundHandler());
  app.use(errorHandler({ logger }));
  return app;
}

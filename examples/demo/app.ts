// The demo app: a customer-accounts API on createPortcullis, every Portcullis capability in the order of DESIGN.md.
import type { Express } from 'express';
import { openApiRoute, policyAdminRouter, version } from 'portcullis';
import { accountValidators } from './accounts.js';
import type { DemoParts } from './assemble.js';

export type { DemoParts } from './assemble.js';

export function buildDemoApp(parts: DemoParts): Express {
  const { portcullis } = parts;
  // Security headers, metrics, request context, JSON bodies, audit capture, /health, /metrics, /auth,
  // authentication and the rate limit. Credential guessing is stopped inside authentication, per (address,
  // account) and per address (createAuth's failure limit), not by a limiter of failed requests per address:
  // that one let anyone behind the same address (an office, a NAT) lock out everyone else there.
  const app = portcullis.app();

  const accounts = portcullis.crudRouter({
    resource: 'accounts',
    store: parts.accounts,
    validators: accountValidators,
    // Account responses: the PII fields' own rules, recognizers in `notes` only.
    masker: parts.accountsMasker,
  });
  app.use('/accounts', accounts);

  const audit = portcullis.auditRouter();
  app.use('/audit', audit);

  const adminOnly = portcullis.authorize('admin', 'admin');
  const principalAdmin = portcullis.auth.principalAdminRouter();
  app.use('/admin', adminOnly, principalAdmin);
  // Writes go through the mirror the guard decides with, so this process enforces a policy before its 201.
  const policyAdmin = policyAdminRouter({ store: portcullis.policies });
  app.use('/admin', adminOnly, policyAdmin);

  // Each caller gets the routes with the fields it may see (docs/openapi.md).
  const mounts = {
    '/auth': portcullis.auth.authRouter(),
    '/accounts': accounts,
    '/audit': audit,
    '/admin': [adminOnly, principalAdmin, policyAdmin],
  };
  app.get(
    '/openapi.json',
    openApiRoute({ info: { title: 'Portcullis demo', version }, mounts, security: portcullis.auth.strategies }),
  );

  return portcullis.finish(app);
}

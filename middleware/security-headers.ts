// securityHeaders(): helmet with defaults suited to a JSON API, every helmet option passed through.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createRequire } from 'node:module';
import type { HelmetOptions } from 'helmet';
import type helmetFunction from 'helmet';

// helmet is loaded by the first securityHeaders(), not with the package: an application that sets its own
// headers never pays for it.
const require = createRequire(import.meta.url);

export type SecurityHeadersOptions = HelmetOptions & {
  /** Send `Cache-Control: no-store` (API answers carry personal data). Default true. */
  noStore?: boolean;
};

// An API serves no documents: nothing may load, frame or embed its responses.
const API_DEFAULTS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
  },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  crossOriginOpenerPolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  xFrameOptions: { action: 'deny' },
};

/** Security headers for an API. Options are helmet's; each one given replaces the API default for that header. */
export function securityHeaders(options: SecurityHeadersOptions = {}): RequestHandler {
  if (typeof options === 'object' && options !== null && 'method' in options && 'headers' in options) {
    throw new TypeError('securityHeaders must be called: app.use(securityHeaders()), not app.use(securityHeaders)');
  }
  const { noStore = true, ...helmetOptions } = options;
  const helmet = require('helmet') as typeof helmetFunction;
  const headers = helmet({ ...API_DEFAULTS, ...helmetOptions } as HelmetOptions);
  return function portcullisSecurityHeaders(req: Request, res: Response, next: NextFunction) {
    if (noStore) res.setHeader('Cache-Control', 'no-store');
    headers(req, res, next);
  };
}

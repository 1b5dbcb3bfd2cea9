// createPortcullis(config): the stores, auth, guard, audit and masking an app needs, built from the
// environment in one call, and the Express pieces preset with them.
import type { Server } from 'node:http';
import express, { type Express, type Request, type RequestHandler, type Router } from 'express';
import type { Config } from '../src/config/index.js';
import { ConfigError, ConflictError } from '../src/errors.js';
import { createLogger, type Logger } from '../src/logger.js';
import { Guard } from '../src/abac/guard.js';
import { PolicyMirror } from '../src/abac/mirror.js';
import type { Policy } from '../src/abac/policy.js';
import { createHistory } from '../src/audit/history.js';
import { auditPipelineFromConfig } from '../src/audit/from-config.js';
import type { AuditPipeline } from '../src/audit/pipeline.js';
import type { MaskerOptions, PiiMasker } from '../src/pii/engine.js';
import { maskerFromConfig, unmaskGroupsGrant } from '../src/pii/from-config.js';
import type { UnmaskGrant } from '../src/pii/masker.js';
import { version } from '../src/version.js';
import type { Stores } from '../src/contracts/store-set.js';
import { createStores } from '../stores/create-stores.js';
import { auditRouter } from '../middleware/audit-router.js';
import { auditTrail } from '../middleware/audit-trail.js';
import { createAuth, type Auth } from '../middleware/auth-setup.js';
import { authorize, subjectOf } from '../middleware/authorize.js';
import { createHttpServer } from '../middleware/http-server.js';
import { contextOf } from '../middleware/context.js';
import { crudRouter, type CrudRouterOptions } from '../middleware/crud-router.js';
import { errorHandler, notFoundHandler } from '../middleware/error-handler.js';
import { healthHandler } from '../middleware/health.js';
import { jsonBody } from '../middleware/json-body.js';
import { createMetrics, type Metrics } from '../middleware/metrics.js';
import { requestContext } from '../middleware/request-context.js';
import { securityHeaders } from '../middleware/security-headers.js';
import { gracefulShutdown } from '../middleware/shutdown.js';

export interface CreatePortcullisOptions {
  /** The stores; default `createStores(config)` (memory, or the servers of MONGODB_URI / REDIS_URL). */
  stores?: Stores;
  /** Default: a JSON logger at LOG_LEVEL that masks what the masker masks. */
  logger?: Logger;
  /** Policies added to the policy store when it has none of that uid yet (a restart keeps later edits). */
  policies?: Policy[];
  /**
   * Your records' PII fields: masked at any depth in responses, audit events and logs, on top of
   * PII_MASK_KEYS / PII_MASK_PATHS, and shown in clear to whom the guard allows `read:pii` on
   * `{ field }` or who is in a PII_UNMASK_GROUPS group. A name, or `{ field, label, strategy }` for a
   * label and strategy of its own (default: the field's name and PII_MASK_STRATEGY), or
   * `{ field, freeText: true }` for free text that no rule masks whole: the recognizers (PII_RECOGNIZERS)
   * mask what they find in it. Default none.
   */
  piiFields?: (string | PiiField)[];
  /** The guard's decision cache: worth it with thousands of policies. Default false. */
  decisionCache?: boolean;
  /**
   * Prometheus metrics (`createMetrics`): requests by route, ABAC decisions, rate-limit hits and the audit
   * queue depth, served unauthenticated at `GET /metrics` by `app()`. Default false.
   */
  metrics?: boolean;
}

/** A PII field of `piiFields`. */
export interface PiiField {
  field: string;
  /** The label grants and annotations name. Default: the field's name. */
  label?: string;
  /** Default PII_MASK_STRATEGY. */
  strategy?: MaskerOptions['strategy'];
  /** Free text: recognizers mask what they find in it instead of a rule masking it whole. Default false. */
  freeText?: boolean;
}

/**
 * The crudRouter options createPortcullis fills in (authorize, masking, history, cursors, body limit, batch size,
 * and the attachment limits ATTACHMENT_MAX_BYTES / ATTACHMENT_TYPES when `attachments` names a store).
 */
export type PortcullisCrudOptions = Omit<CrudRouterOptions, 'authorize'> & {
  /** The ABAC resource name of the routes. Default: `resource`. */
  abacResource?: string;
};

export interface Portcullis {
  readonly config: Config;
  readonly logger: Logger;
  readonly stores: Stores;
  readonly auth: Auth;
  /** Decides on the policies of `policies`, kept in step with the policy store across processes. */
  readonly guard: Guard;
  readonly policies: PolicyMirror;
  readonly masker: PiiMasker;
  readonly pipeline: AuditPipeline;
  /** With `metrics: true`: the registry `GET /metrics` serves, fed by the guard, the limiter and each request. */
  readonly metrics: Metrics | undefined;
  /** `authorize()` with this guard: the ABAC decision for `action` on `resource`. */
  authorize(action: string, resource: string): RequestHandler;
  /** What the request's principal may see unmasked (PII_UNMASK_GROUPS, then `read:pii` per field). */
  unmask(req: Request): UnmaskGrant | undefined;
  /**
   * An Express app with the front of the stack in place, in DESIGN order: `trust proxy` (TRUST_PROXY), the
   * flat query parser, security headers, request context, JSON bodies (BODY_LIMIT, BODY_MAX_DEPTH), audit
   * capture, `GET /health` (and `GET /metrics`), `/auth` (login, logout, sessions, me), authentication and the
   * rate limit. Mount your routes on it, then `listen(app)`.
   */
  app(): Express;
  /** Adds the 404 and error handlers after your routes (once; `listen` does it too). Returns `app`. */
  finish(app: Express): Express;
  /** `crudRouter` with authorization by the guard, masking, unmasking, history and the configured cursors. */
  crudRouter(options: PortcullisCrudOptions): Router;
  /** The audit API (`/events`, `/actors/:actor/events`, …), allowed to whom the guard allows `audit:read`. */
  auditRouter(): Router;
  /**
   * `finish(app)`, then listens on HOST:PORT and shuts down gracefully on SIGTERM / SIGINT
   * (SHUTDOWN_TIMEOUT). A request must arrive within REQUEST_TIMEOUT (headers within HEADERS_TIMEOUT), else
   * 408; at most MAX_CONNECTIONS are open at once, MAX_CONNECTIONS_PER_CLIENT from one address (TRUSTED_PROXIES
   * exempt). Rejects with a ConfigError naming PORT or HOST when the server cannot listen.
   */
  listen(app: Express): Promise<Server>;
  /** Flushes audit events and closes the stores. */
  close(): Promise<void>;
}

/**
 * Builds everything a Portcullis app needs from the configuration (`loadConfig()`): stores, auth (with the
 * ADMIN_API_KEY administrator), the policy guard, the audit pipeline and the masker. Misconfiguration
 * rejects with a ConfigError naming the variable.
 */
export async function createPortcullis(config: Config, options: CreatePortcullisOptions = {}): Promise<Portcullis> {
  const fields = (options.piiFields ?? []).map((spec) => (typeof spec === 'string' ? { field: spec } : spec));
  const piiFields = fields.map(({ field }) => field);
  const masker = maskerFromConfig(config, {
    paths: fields
      .filter((spec) => !spec.freeText)
      .map(({ field, label, strategy }) => ({
        path: `**.${field}`,
        ...(label ? { label } : {}),
        ...(strategy ? { strategy } : {}),
      })),
  });
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL, masker });
  const stores = options.stores ?? (await createStores(config, { logger }));
  const ownsStores = options.stores === undefined;
  try {
    const policies = new PolicyMirror({ store: stores.policies, logger });
    await policies.init();
    for (const policy of options.policies ?? []) {
      if (!(await policies.get(policy.uid))) await seedOnce(() => policies.add(policy));
    }
    const guard = new Guard({ policies, cache: options.decisionCache ?? false, logger });
    const pipeline = await auditPipelineFromConfig(config, stores, { masker, logger });
    const metrics = options.metrics ? createMetrics({ auditQueueDepth: () => pipeline.queueDepth() }) : undefined;
    if (metrics) guard.onDecision((decision) => metrics.recordDecision(decision));
    const auth = createAuth({ config, stores, logger, masker });
    if (config.ADMIN_API_KEY) await auth.bootstrapAdmin(config.ADMIN_API_KEY);
    return assemble({
      config,
      logger,
      stores,
      ownsStores,
      policies,
      guard,
      pipeline,
      auth,
      masker,
      piiFields,
      metrics,
    });
  } catch (error) {
    if (ownsStores) await stores.close();
    throw error;
  }
}

interface Parts {
  config: Config;
  logger: Logger;
  stores: Stores;
  ownsStores: boolean;
  policies: PolicyMirror;
  guard: Guard;
  pipeline: AuditPipeline;
  auth: Auth;
  masker: PiiMasker;
  piiFields: string[];
  metrics: Metrics | undefined;
}

/** Seeds one item; a ConflictError means another process starting at the same time seeded it first. */
async function seedOnce(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}

function assemble(parts: Parts): Portcullis {
  const { config, logger, stores, guard, pipeline, auth, masker, piiFields, metrics } = parts;
  const groupsGrant = unmaskGroupsGrant(config, [masker]);
  // One grant object per combination of fields: the masker compiles each grant object once.
  const grants = new Map<string, UnmaskGrant>();

  function unmask(req: Request): UnmaskGrant | undefined {
    const principal = contextOf(req).principal;
    if (!principal) return undefined;
    const everything = groupsGrant(principal);
    if (everything || piiFields.length === 0) return everything;
    const subject = subjectOf(principal);
    const fields = piiFields.filter((field) =>
      guard.isAllowed({ subject, action: 'read:pii', resource: { field }, context: {} }),
    );
    if (fields.length === 0) return undefined;
    const key = fields.join('\u0000');
    let grant = grants.get(key);
    if (!grant) grants.set(key, (grant = { fields: fields.map((field) => `**.${field}`) }));
    return grant;
  }

  const can = (action: string, resource: string): RequestHandler => authorize({ guard, action, resource });
  const finished = new WeakSet<Express>();
  function finish(app: Express): Express {
    if (!finished.has(app)) app.use(notFoundHandler(), errorHandler({ logger }));
    finished.add(app);
    return app;
  }
  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing ??= (async () => {
      await pipeline.close();
      await parts.policies.close?.();
      if (parts.ownsStores) await stores.close();
    })();
    return closing;
  }

  return {
    config,
    logger,
    stores,
    auth,
    guard,
    policies: parts.policies,
    masker,
    pipeline,
    metrics,
    authorize: can,
    unmask,
    app() {
      const app = express();
      app.disable('x-powered-by');
      app.set('trust proxy', config.TRUST_PROXY);
      // The filter language reads raw strings: `a[$ne]=1` must not become an object.
      app.set('query parser', 'simple');
      // Every answer is `no-store` (securityHeaders), so no cache revalidates it: Express's weak ETag would
      // hash each body (a list page's 6 KB) for nothing. Answers meant for revalidation set their own: a
      // record's version (If-Match), the OpenAPI document.
      app.set('etag', false);
      app.use(securityHeaders());
      if (metrics) app.use(metrics.middleware);
      app.use(requestContext({ masker }), jsonBody({ limit: config.BODY_LIMIT, maxDepth: config.BODY_MAX_DEPTH }));
      app.use(auditTrail({ pipeline, logger, durability: config.AUDIT_DURABILITY }));
      app.get('/health', healthHandler({ stores, version }));
      if (metrics) app.get('/metrics', metrics.handler);
      const onLimited = metrics ? { onLimited: (name: string) => metrics.recordRateLimitHit(name) } : {};
      // Per address, before any credential is checked: each login attempt costs a password hash, and the
      // failure limit lets every account that has not failed yet through, so it cannot stop a flood alone.
      app.post(['/auth/login', '/auth/login/totp'], auth.rateLimit({ name: 'login', ...onLimited }));
      app.use('/auth', auth.authRouter());
      app.use(auth.authenticate(), auth.rateLimit(onLimited));
      return app;
    },
    finish,
    crudRouter(options) {
      const { abacResource, ...rest } = options;
      const resource = abacResource ?? options.resource;
      return crudRouter({
        masker,
        unmask,
        history: createHistory(stores.audit),
        bodyLimit: config.BODY_LIMIT,
        maxBatchRecords: config.BATCH_MAX_RECORDS,
        ...(config.CURSOR_SECRET ? { cursorSecret: config.CURSOR_SECRET } : {}),
        ...rest,
        ...(rest.attachments
          ? {
              attachments: {
                maxBytes: config.ATTACHMENT_MAX_BYTES,
                types: config.ATTACHMENT_TYPES,
                ...rest.attachments,
              },
            }
          : {}),
        ...(rest.privacy
          ? { privacy: { ...rest.privacy, default: rest.privacy.default ?? config.PRIVACY_DEFAULT } }
          : {}),
        authorize: (action) => can(action, resource),
      });
    },
    auditRouter() {
      return auditRouter({ store: stores.audit, masker, unmaskGrant: unmask, guard: can('audit:read', 'audit') });
    },
    async listen(app) {
      finish(app);
      const server = createHttpServer(app, {
        requestTimeoutMs: config.REQUEST_TIMEOUT,
        headersTimeoutMs: config.HEADERS_TIMEOUT,
        maxConnections: config.MAX_CONNECTIONS,
        maxConnectionsPerClient: config.MAX_CONNECTIONS_PER_CLIENT,
        trustedProxies: config.TRUSTED_PROXIES,
        idleTimeoutMs: config.IDLE_TIMEOUT,
        logger,
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) => {
          const variable = error.code === 'EADDRINUSE' || error.code === 'EACCES' ? 'PORT' : 'HOST';
          reject(
            new ConfigError(variable, `cannot listen on ${config.HOST}:${config.PORT} (${error.code ?? error.name})`, {
              code: 'config.unusable',
            }),
          );
        });
        server.listen(config.PORT, config.HOST, resolve);
      });
      const shutdown = gracefulShutdown(server, { timeoutMs: config.SHUTDOWN_TIMEOUT, logger, close });
      const stop = () => void shutdown().then(({ closed }) => process.exit(closed ? 0 : 1));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      server.once('close', () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      });
      return server;
    },
    close,
  };
}

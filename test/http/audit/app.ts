// A small app for the audit HTTP tests: fake authenticate/authorize that set the shared context, CRUD routes.
import express, { type NextFunction, type Request, type Response } from 'express';
import { contextOf } from '../../../middleware/context.js';
import { errorHandler, notFoundHandler } from '../../../middleware/error-handler.js';
import { requestContext } from '../../../middleware/request-context.js';
import { auditAs, auditTrail } from '../../../middleware/audit-trail.js';
import type { AuditPipeline } from '../../../src/audit/pipeline.js';
import { auditContext } from '../../../src/audit/context.js';
import { ForbiddenError, NotFoundError } from '../../../src/errors.js';
import type { Masker } from '../../../src/pii/masker.js';

/** A small real masker: replaces values of sensitive keys anywhere in the value, never mutating it. */
export function keyMasker(keys: string[]): Masker {
  const sensitive = new Set(keys);
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = sensitive.has(key) ? '[masked]' : walk(item);
      return out;
    }
    return value;
  };
  return { mask: <T>(value: T) => walk(value) as T };
}

export function auditedApp(pipeline: AuditPipeline) {
  const records = new Map<string, Record<string, unknown>>();
  let next = 1;
  const app = express();
  app.use(requestContext());
  app.use(express.json());
  app.use(auditTrail({ pipeline }));
  // authenticate: X-User names the principal; X-Key adds an API key id.
  app.use((req: Request, _res: Response, done: NextFunction) => {
    const user = req.header('x-user');
    if (user) {
      contextOf(req).principal = {
        id: user,
        kind: req.header('x-key') ? 'apiKey' : 'user',
        name: `Name of ${user}`,
        groups: [],
        apiKeyId: req.header('x-key') ?? undefined,
        attributes: {},
      };
    }
    done();
  });
  // authorize: user "mallory" is denied by policy p-deny; everyone else allowed by p-allow.
  const authorize = (req: Request, _res: Response, done: NextFunction) => {
    const context = contextOf(req);
    const allowed = context.principal?.id !== 'mallory';
    context.decision = {
      allowed,
      deciders: [allowed ? 'p-allow' : 'p-deny'],
      reason: allowed ? 'allowed' : 'denied by policy',
      inquiry: { subject: context.principal?.id, action: req.method, resource: req.path, context: {} },
    };
    done(allowed ? undefined : new ForbiddenError());
  };
  const router = express.Router();
  router.post('/', authorize, (req, res) => {
    const id = String(next++);
    const record = { id, ...req.body };
    records.set(id, record);
    const draft = contextOf(req).audit!;
    draft.resourceId = id;
    draft.after = record;
    auditContext.update({ tenant: 'acme' });
    res.status(201).json(record);
  });
  router.get('/', authorize, (_req, res) => void res.json([...records.values()]));
  router.get('/:id', authorize, (req, res) => {
    const record = records.get(String(req.params.id));
    if (!record) throw new NotFoundError();
    res.json(record);
  });
  router.put('/:id', authorize, (req, res) => {
    const before = records.get(String(req.params.id));
    if (!before) throw new NotFoundError();
    const after = { ...req.body, id: before.id };
    records.set(String(req.params.id), after);
    Object.assign(contextOf(req).audit!, { before, after });
    res.json(after);
  });
  router.delete('/:id', authorize, (req, res) => {
    const before = records.get(String(req.params.id));
    if (!before) throw new NotFoundError();
    records.delete(String(req.params.id));
    contextOf(req).audit!.before = before;
    res.status(204).end();
  });
  router.post('/search', auditAs({ action: 'SEARCH' }), (_req, res) => void res.json([]));
  app.use('/accounts', router);
  app.get('/health', auditAs({ skip: true }), (_req, res) => void res.json({ ok: true }));
  app.post('/login', auditAs({ action: 'user.login', resource: 'sessions' }), (_req, res) => void res.json({}));
  app.use(notFoundHandler());
  app.use(errorHandler());
  return app;
}

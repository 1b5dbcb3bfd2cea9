// auditRouter(): list, search and fetch audit events, by actor and by action, and rebuild a record's history.
import { checkOptions, integerOption } from '../src/options.js';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { AUDIT_QUERY_FIELDS } from '../src/audit/fields.js';
import type { AuditEvent } from '../src/audit/event.js';
import { createHistory, type HistoryFunction } from '../src/audit/history.js';
import type { AuditQuery, AuditStore } from '../src/contracts/audit.js';
import { ConfigError, NotFoundError, ValidationError, type FieldProblem } from '../src/errors.js';
import { compileListQuery } from '../src/filter/compile.js';
import { castText } from '../src/filter/cast.js';
import type { SchemaInput } from '../src/filter/schema.js';
import type { Masker, UnmaskGrant } from '../src/pii/masker.js';
import { describeRouter, type DescribedRouter } from './openapi/describe.js';
import { describeAuditRouter } from './openapi/routers.js';

export interface AuditRouterOptions {
  /** Where events are read from (`stores.audit`, or `pipeline.store`). Required. */
  store: AuditStore;
  /** Run before every route, e.g. `[authenticate(...), authorize(...)]`. Default none: mount it behind them. */
  guard?: RequestHandler | RequestHandler[];
  /** Applied to every event returned (events are also masked when stored). Default none. */
  masker?: Masker;
  /** What the caller may see unmasked. Default: nothing. */
  unmaskGrant?: (req: Request) => UnmaskGrant | undefined;
  /** Page size without `limit`. Default 50. */
  defaultLimit?: number;
  /** Largest `limit`. Default 500. */
  maxLimit?: number;
  /** History source. Default: rebuilt from `store`. */
  history?: HistoryFunction;
}

/** The fields of an event the pipeline sets itself and never masks. */
const ENVELOPE = new Set(['id', 'time', 'action', 'requestId', 'stream', 'seq', 'hash', 'prevHash']);
const KNOWN = ['store', 'guard', 'masker', 'unmaskGrant', 'defaultLimit', 'maxLimit', 'history'];
// The querystring parameters the router reads itself; everything else is a filter.
const CONTROLS = new Set(['limit', 'cursor', 'from', 'to', 'order']);
const REFUSED_CONTROLS = new Set(['sort', 'offset', 'fields', 'count']);
const SCHEMA: SchemaInput = Object.fromEntries(
  Object.entries(AUDIT_QUERY_FIELDS).filter(([field]) => field !== 'id'),
) as SchemaInput;
const COMPILER_OPTIONS = { idField: 'id', maxLimit: 1000, resource: 'audit' };
const SAFE_SEGMENT = /^[A-Za-z0-9._:@-]{1,256}$/;

export function auditRouter(options: AuditRouterOptions): Router & DescribedRouter {
  if (options === undefined) throw new ConfigError('options', 'must be an object');
  checkOptions('auditRouter()', options, KNOWN);
  const store = options.store;
  if (typeof store?.list !== 'function' || typeof store.get !== 'function') {
    throw new ConfigError('store', 'is required: an AuditStore');
  }
  const maxLimit = integerOption('maxLimit', options.maxLimit, { fallback: 500, min: 1, max: 1000 });
  const defaultLimit = integerOption('defaultLimit', options.defaultLimit, { fallback: 50, min: 1, max: 1000 });
  if (defaultLimit > maxLimit) throw new ConfigError('defaultLimit', 'must not exceed maxLimit');
  const masker = options.masker;
  const history = options.history ?? createHistory(store);
  const guards = options.guard === undefined ? [] : [options.guard].flat();
  if (!guards.every((guard) => typeof guard === 'function')) throw new ConfigError('guard', 'must be middleware');

  const show = <T>(req: Request, value: T): T => (masker ? masker.mask(value, options.unmaskGrant?.(req)) : value);
  /**
   * Events are masked again on the way out (a grant may show less than was stored), but never their envelope:
   * the pipeline kept ids, times and the hash chain out of the masker's reach when it stored them, and a
   * recognizer that matched inside a UUID or a hash here would change what callers look events up by.
   */
  const showEvent = (req: Request, event: AuditEvent): AuditEvent => {
    if (!masker) return event;
    const payload: Record<string, unknown> = {};
    const envelope: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(event)) (ENVELOPE.has(key) ? envelope : payload)[key] = value;
    return { ...show(req, payload), ...envelope } as unknown as AuditEvent;
  };

  /** Reads the raw querystring itself, so an app's extended parser cannot smuggle objects in. */
  function parseQuery(req: Request, fixed: AuditQuery['where'] = {}): AuditQuery {
    const raw = (req.originalUrl ?? req.url).split('?')[1] ?? '';
    const params = new URLSearchParams(raw);
    const problems: FieldProblem[] = [];
    // No prototype: `__proto__=1` stays a key, refused by the filter language as an unknown field.
    const filters: Record<string, string[]> = Object.create(null);
    const single = (key: string) => {
      const values = params.getAll(key);
      if (values.length > 1) problems.push({ field: key, message: 'may be given only once' });
      return values[0];
    };
    for (const key of new Set(params.keys())) {
      if (CONTROLS.has(key)) continue;
      if (REFUSED_CONTROLS.has(key)) {
        problems.push({ field: key, message: 'is not supported here (events are listed by time; use order=asc)' });
        continue;
      }
      filters[key] = params.getAll(key);
    }
    const query: AuditQuery = { limit: defaultLimit, where: fixed };
    const limit = single('limit');
    if (limit !== undefined) {
      const value = /^\d{1,4}$/.test(limit) ? Number(limit) : NaN;
      if (!(value >= 1 && value <= maxLimit)) {
        problems.push({ field: 'limit', message: `must be an integer from 1 to ${maxLimit}` });
      } else query.limit = value;
    }
    for (const bound of ['from', 'to'] as const) {
      const value = single(bound);
      if (value === undefined) continue;
      // The filter language's dates: ISO 8601, and a day that exists (2024-02-30 is refused, not March 1).
      const time = value.length <= 64 ? castText('date', value) : undefined;
      if (!(time instanceof Date)) problems.push({ field: bound, message: 'must be an ISO 8601 time' });
      else query[bound] = time;
    }
    const order = single('order');
    if (order !== undefined) {
      if (order !== 'asc' && order !== 'desc') problems.push({ field: 'order', message: 'must be asc or desc' });
      else query.order = order;
    }
    const cursor = single('cursor');
    if (cursor !== undefined) query.cursor = cursor;
    if (problems.length > 0) throw new ValidationError('The audit query is not valid.', { errors: problems });
    if (Object.keys(filters).length > 0) {
      // The filter language checks fields, operators and values (no `$` keys, no objects, declared fields only).
      const compiled = compileListQuery(filters, SCHEMA, COMPILER_OPTIONS);
      query.filter = {
        mongo: compiled.filter,
        matches: (event: AuditEvent) => compiled.matches(event as unknown as Record<string, unknown>),
      };
    }
    return query;
  }

  function segment(value: unknown, name: string): string {
    if (typeof value !== 'string' || !SAFE_SEGMENT.test(value)) {
      throw new ValidationError(`The ${name} in the path is not valid.`, {
        errors: [{ field: name, message: 'must be 1 to 256 letters, digits or ._:@-' }],
      });
    }
    return value;
  }

  async function sendPage(req: Request, res: Response, query: AuditQuery): Promise<void> {
    const page = await store.list(query);
    res.json({ items: page.events.map((event) => showEvent(req, event)), nextCursor: page.nextCursor ?? null });
  }

  const router = express.Router();
  if (guards.length > 0) router.use(...guards);

  router.get('/events', async (req, res) => sendPage(req, res, parseQuery(req)));
  router.get('/events/:id', async (req, res) => {
    const event = await store.get(segment(req.params.id, 'id'));
    if (!event) throw new NotFoundError('No audit event with this id.');
    res.json(showEvent(req, event));
  });
  // cased's list_by_actor / list_by_action.
  router.get('/actors/:actor/events', async (req, res) =>
    sendPage(req, res, parseQuery(req, { 'user.id': segment(req.params.actor, 'actor') })),
  );
  router.get('/actions/:action/events', async (req, res) =>
    sendPage(req, res, parseQuery(req, { action: segment(req.params.action, 'action') })),
  );
  // scoutr's /audit/<item>: every event about one record.
  router.get('/resources/:resource/:id/events', async (req, res) =>
    sendPage(
      req,
      res,
      parseQuery(req, { resource: segment(req.params.resource, 'resource'), resourceId: segment(req.params.id, 'id') }),
    ),
  );
  // scoutr's /history/<item>: the record's state after each change, newest first.
  router.get('/history/:resource/:id', async (req, res) => {
    const entries = await history(segment(req.params.resource, 'resource'), segment(req.params.id, 'id'));
    if (entries.length === 0) throw new NotFoundError('No history for this record.');
    res.json({ items: show(req, entries) });
  });
  return describeRouter(
    router,
    describeAuditRouter({
      schema: SCHEMA,
      compilerOptions: COMPILER_OPTIONS,
      defaultLimit,
      maxLimit,
      guarded: guards.length > 0,
    }),
  );
}

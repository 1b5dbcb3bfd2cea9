// auditTrail(): records one audit event per request that reached a route, allowed or denied, when it ends.
import { checkOptions } from '../src/options.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { changedFields } from '../src/audit/changes.js';
import { auditContext } from '../src/audit/context.js';
import type { AuditEventDraft } from '../src/audit/event-ref.js';
import type { AuditEventInput, AuditOutcome } from '../src/audit/event.js';
import type { AuditPipeline } from '../src/audit/pipeline.js';
import { ConfigError } from '../src/errors.js';
import { plainCopy } from '../src/own.js';
import { errorForLog, silentLogger, type Logger } from '../src/logger.js';
import { contextOf } from './context.js';
import { routingOf, type Routing } from './routing.js';

export interface AuditTrailOptions {
  /** The pipeline events are published to (`createAuditPipeline`). Required. */
  pipeline: AuditPipeline;
  /** Record request bodies (masked with the pipeline's masker). Default true. */
  captureBody?: boolean;
  /** The resource name when the route sets none. Default: first segment of the matched route path. */
  resource?: (req: Request) => string | undefined;
  /** Requests for which nothing is recorded. Default: none. */
  skip?: (req: Request) => boolean;
  /** Also record requests that matched no route and were not authorized (404s). Default false. */
  recordUnmatched?: boolean;
  /** Where failures to record are logged. Default: nowhere. */
  logger?: Logger;
  /**
   * `'async'`: the answer leaves at once and its event follows within `flushInterval` (a crash in between
   * loses it). `'acknowledged'`: the answer to a request that may change something (any method but GET,
   * HEAD and OPTIONS) waits until its event is in the store or a durable fallback queue, so kill -9 loses
   * no acknowledged change's event; 503 if that takes longer than the pipeline's `maxWait`. Default `'async'`.
   */
  durability?: AuditDurability;
}

export type AuditDurability = 'async' | 'acknowledged';

const KNOWN = ['pipeline', 'captureBody', 'resource', 'skip', 'recordUnmatched', 'logger', 'durability'];
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
// Headers that describe the held answer, dropped when a 503 replaces it.
const ANSWER_HEADERS = ['content-length', 'content-type', 'etag', 'last-modified', 'location'];
const AUDIT_UNAVAILABLE = JSON.stringify({
  type: 'https://portcullis.dev/problems/store_unavailable',
  title: 'Service Unavailable',
  status: 503,
  detail: 'The audit store is unavailable; the change was made but its answer could not be confirmed.',
  code: 'store_unavailable',
});
/** What a list cursor becomes in an event: it is a key to data, and the hash chain would keep it forever. */
export const CURSOR_MARKER = '[cursor]';
const USER_AGENT_MAX = 512;

/** How a route names its event: set on the request before the response, or use `auditAs()`. */
export interface AuditSettings {
  action?: string;
  resource?: string;
  resourceId?: string;
  /** Record nothing for this route. */
  skip?: boolean;
}

/** A route-level middleware that sets the action and resource of the request's event, or opts out. */
export function auditAs(settings: AuditSettings): RequestHandler {
  if (settings === undefined) throw new ConfigError('settings', 'must be an object');
  checkOptions('auditAs()', settings, ['action', 'resource', 'resourceId', 'skip']);
  return function portcullisAuditAs(req: Request, _res: Response, next: NextFunction) {
    const draft = (contextOf(req).audit ??= { extra: {} });
    if (settings.action !== undefined) draft.action = settings.action;
    if (settings.resource !== undefined) draft.resource = settings.resource;
    if (settings.resourceId !== undefined) draft.resourceId = settings.resourceId;
    if (settings.skip !== undefined) draft.skip = settings.skip;
    next();
  };
}

function defaultAction(method: string, params: Record<string, string>): string {
  switch (method) {
    case 'POST':
      return 'CREATE';
    case 'PUT':
    case 'PATCH':
      return 'UPDATE';
    case 'DELETE':
      return 'DELETE';
    case 'GET':
    case 'HEAD':
      return Object.keys(params).length > 0 ? 'GET' : 'LIST';
    default:
      return method;
  }
}

function firstSegment(path: string | undefined): string | undefined {
  return path?.split('/').find((segment) => segment !== '' && !segment.startsWith(':'));
}

/** Read when the request arrives: once the connection is gone, `req.ip` is undefined or throws. */
interface Capture {
  routing: Routing;
  sourceIp: string | undefined;
}

/** The matched route's pattern with its mount path, when it is a string. */
function routePathOf(routing: Routing): string | undefined {
  const route = routing.route;
  return typeof route?.path === 'string' ? `${route.baseUrl}${route.path}` : undefined;
}

function outcomeOf(status: number, denied: boolean): AuditOutcome {
  if (denied || status === 403) return 'denied';
  return status >= 400 ? 'failed' : 'allowed';
}

export function auditTrail(options: AuditTrailOptions): RequestHandler {
  if (typeof options === 'function') {
    throw new ConfigError('auditTrail', 'call it with options: app.use(auditTrail({ pipeline }))');
  }
  if (options === undefined) throw new ConfigError('options', 'must be an object');
  checkOptions('auditTrail()', options, KNOWN);
  const pipeline = options.pipeline;
  if (typeof pipeline?.record !== 'function') {
    throw new ConfigError('pipeline', 'is required: pass the result of createAuditPipeline()');
  }
  const captureBody = options.captureBody ?? true;
  const resourceOf = options.resource;
  const skip = options.skip;
  const recordUnmatched = options.recordUnmatched ?? false;
  const logger = options.logger ?? silentLogger;
  const durability = options.durability ?? 'async';
  if (durability !== 'async' && durability !== 'acknowledged') {
    throw new ConfigError('durability', "must be 'async' or 'acknowledged'");
  }

  return function portcullisAuditTrail(req: Request, res: Response, next: NextFunction) {
    if (!pipeline.enabled || skip?.(req)) {
      next();
      return;
    }
    const context = contextOf(req);
    const draft: AuditEventDraft = (context.audit ??= { extra: {} });
    const capture: Capture = { routing: routingOf(req), sourceIp: req.ip };
    let scope: Record<string, unknown> = {};
    let recorded = false;

    const finish = () => {
      if (recorded) return;
      recorded = true;
      try {
        for (const input of eventsFor(req, res, draft, capture, scope)) pipeline.record(input);
      } catch (error) {
        logger.error({ err: errorForLog(error), requestId: context.requestId }, 'audit event not recorded');
      }
    };
    res.once('finish', finish);
    res.once('close', finish);
    if (durability === 'acknowledged' && !READ_METHODS.has(req.method)) {
      holdAnswerUntilDurable(req, res, () => {
        if (recorded) return [];
        recorded = true;
        return eventsFor(req, res, draft, capture, scope, res.statusCode);
      });
    }

    const run = () => {
      scope = auditContext.open({}, () => next());
    };
    if (pipeline.saturated) pipeline.waitForSpace().then(run, next);
    else run();
  };

  /** The request's event, or one per record when a route changed several (`draft.records`, a batch). */
  function eventsFor(
    req: Request,
    res: Response,
    draft: AuditEventDraft,
    capture: Capture,
    scope: Record<string, unknown>,
    answered?: number,
  ): AuditEventInput[] {
    const event = eventFor(req, res, draft, capture, scope, answered);
    if (!event) return [];
    if (!draft.records || draft.records.length === 0) return [event];
    return draft.records.map((item) => ({
      ...event,
      action: item.action ?? event.action,
      resourceId: item.resourceId,
      changes: changedFields(item.before, item.after),
      body: captureBody && !draft.omitBody && item.body !== undefined ? item.body : undefined,
      data: { ...event.data, ...item.extra },
    }));
  }

  function eventFor(
    req: Request,
    res: Response,
    draft: AuditEventDraft,
    capture: Capture,
    scope: Record<string, unknown>,
    answered?: number,
  ): AuditEventInput | undefined {
    if (draft.skip) return undefined;
    const context = contextOf(req);
    const decision = context.decision;
    const routePath = routePathOf(capture.routing);
    if (!routePath && !decision && !draft.action && !recordUnmatched) return undefined;
    const principal = context.principal;
    const status = answered ?? (res.headersSent || res.writableEnded ? res.statusCode : 499);
    const path = (req.originalUrl ?? req.url).split('?')[0];
    const params = capture.routing.params;
    const changes = changedFields(draft.before, draft.after);
    const userAgent = req.headers['user-agent'];
    // Express 5 parses the querystring again on every read of `req.query`, into a null-prototype dictionary.
    const query = req.query as Record<string, unknown> | undefined;
    const queryParams = query && Object.keys(query).length > 0 ? plainCopy(query) : undefined;
    if (queryParams?.cursor !== undefined) queryParams.cursor = CURSOR_MARKER;
    return {
      action: draft.action ?? defaultAction(req.method, params),
      resource: draft.resource ?? resourceOf?.(req) ?? firstSegment(routePath),
      resourceId: draft.resourceId ?? params.id,
      outcome: outcomeOf(status, decision?.allowed === false),
      status,
      method: req.method,
      path,
      pathParams: params,
      queryParams,
      body:
        captureBody && !draft.omitBody && req.body !== undefined && Object.keys(req.body ?? {}).length > 0
          ? req.body
          : undefined,
      user: principal
        ? {
            id: principal.id,
            kind: principal.kind,
            name: principal.name,
            apiKeyId: principal.apiKeyId,
            sourceIp: capture.sourceIp,
            userAgent: typeof userAgent === 'string' ? userAgent.slice(0, USER_AGENT_MAX) : undefined,
          }
        : {
            id: 'anonymous',
            kind: 'anonymous',
            sourceIp: capture.sourceIp,
            userAgent: typeof userAgent === 'string' ? userAgent.slice(0, USER_AGENT_MAX) : undefined,
          },
      decision: decision
        ? { allowed: decision.allowed, deciders: decision.deciders, reason: decision.reason }
        : undefined,
      latencyMs: Math.round((performance.now() - context.startedAt) * 1000) / 1000,
      requestId: context.requestId,
      changes,
      data: { ...scope, ...draft.extra },
    };
  }

  /**
   * Delays `res.end()` until the event is durable. The event is built when the handler ends the response,
   * with the status it set; if the event cannot be made durable in time the client gets 503 instead.
   */
  function holdAnswerUntilDurable(req: Request, res: Response, build: () => AuditEventInput[]): void {
    const end = res.end;
    res.end = function heldEnd(this: Response, ...args: unknown[]) {
      res.end = end;
      let events: ReturnType<AuditPipeline['record']>[];
      try {
        events = build().map((input) => pipeline.record(input));
      } catch (error) {
        logger.error({ err: errorForLog(error), requestId: contextOf(req).requestId }, 'audit event not recorded');
        return (end as (...a: unknown[]) => Response).apply(this, args);
      }
      Promise.all(events.map((event) => pipeline.durable(event))).then(
        () => (end as (...a: unknown[]) => Response).apply(this, args),
        () => {
          logger.error({ requestId: contextOf(req).requestId }, 'audit event not durable in time; answered 503');
          if (res.headersSent) {
            res.destroy();
            return;
          }
          for (const name of ANSWER_HEADERS) res.removeHeader(name);
          res.statusCode = 503;
          res.setHeader('Content-Type', 'application/problem+json');
          res.setHeader('Retry-After', '1');
          (end as (...a: unknown[]) => Response).call(this, AUDIT_UNAVAILABLE);
        },
      );
      return this;
    } as Response['end'];
  }
}

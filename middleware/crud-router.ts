// crudRouter(options): list, get, create, update, delete, trash, unique values, search and history routes
// for one resource, with the caller's permissions applied inside every query.
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { RecordStore } from '../src/contracts/records.js';
import { ConfigError } from '../src/errors.js';
import type { CrudAction } from '../src/auth/scopes.js';
import { requireScope } from './authorize-endpoint.js';
import { endpointGuard } from './crud/access.js';
import { mountAttachments } from './crud/attachments.js';
import { batchRoute, DEFAULT_MAX_BATCH_RECORDS } from './crud/batch.js';
import { describeCrud } from './crud/openapi.js';
import { describeRouter, type DescribedRouter } from './openapi/describe.js';
import { validateOptions, type CrudRouterOptions } from './crud/options.js';
import { getRoute, historyRoute, listRoute, searchRoute, uniqueRoute } from './crud/read.js';
import { createState } from './crud/state.js';
import { createRoute, deleteRoute, purgeRoute, restoreRoute, updateRoute } from './crud/write.js';
import { moveRoute } from './crud/residency.js';
import { isResident } from '../src/contracts/residency.js';
import { checkBodyLimit, jsonBody } from './json-body.js';

export type { CrudRouterOptions, FieldValidator } from './crud/options.js';
export type { AttachmentOptions } from './crud/attachments.js';

/** The router, with the store it serves (for seeding and maintenance); it describes its routes in OpenAPI. */
export type CrudRouter = Router & { readonly store: RecordStore } & DescribedRouter;

type AsyncRoute = (req: Request, res: Response) => Promise<void>;

function route(handler: AsyncRoute): RequestHandler {
  return function portcullisCrudRoute(req: Request, res: Response, next: NextFunction) {
    handler(req, res).catch(next);
  };
}

/**
 * Mounts, for one resource (`app.use('/accounts', crudRouter({ resource: 'accounts', model }))`):
 *
 * | route | action |
 * | --- | --- |
 * | `GET /` | list (filters, sort, cursor or offset paging, `count=true`) |
 * | `POST /` | create |
 * | `POST /batch` | create several, all or nothing (`{ "records": [...] }`) |
 * | `GET /trash`, `POST /trash/:id/restore`, `DELETE /trash/:id` | trash list, restore, purge (soft delete on) |
 * | `GET /unique/:field` | distinct values of a field |
 * | `POST /search/:key` | records whose key is in a JSON list of values |
 * | `GET /<field>/:value` | static path filters (`staticPathFilters`) |
 * | `GET /:id/history` | audit trail of a record (`history` given) |
 * | `POST /:id/move` | moves a record to another country (a `ResidentRecordStore`) |
 * | `GET`, `POST /:id/attachments`; `GET`, `PATCH`, `DELETE /:id/attachments/:fileId` | files of a record (`attachments`) |
 * | `GET /:searchKey/:searchValue` | dynamic path filter (`dynamicPathFilter`, default on) |
 * | `GET /:id`, `PATCH /:id`, `PUT /:id` (`allowReplace`), `DELETE /:id` (`?force=true`) | one record |
 */
export function crudRouter(input: CrudRouterOptions): CrudRouter {
  const options = validateOptions(input);
  const state = createState(options);
  for (const field of options.staticPathFilters ?? []) {
    const spec = state.compiler.schema.field(field);
    if (!spec || !spec.filterable)
      throw new ConfigError('crudRouter.staticPathFilters', `"${field}" is not a filterable field`);
    if (['trash', 'unique', 'search'].includes(field))
      throw new ConfigError('crudRouter.staticPathFilters', `"${field}" collides with a route`);
  }
  const router = Router();
  const guard = endpointGuard();
  const json = jsonBody({ limit: checkBodyLimit(options.bodyLimit, 'crudRouter.bodyLimit') });
  const guards = new Map<string, RequestHandler[]>();
  // The credential's scope first (it only narrows), then the caller's own rights through `authorize`.
  const authorize = (action: CrudAction): RequestHandler[] => {
    let handlers = guards.get(action);
    if (!handlers) {
      handlers = [];
      const scope = state.scopes[action];
      if (scope !== undefined) handlers.push(requireScope(scope));
      // The caller's memberships before authorize: its policies see them as the subject's privacyRoles.
      if (state.privacy) handlers.push(state.privacy.load(action));
      if (options.authorize) {
        const handler = options.authorize(`${options.resource}:${action}`);
        if (typeof handler !== 'function')
          throw new ConfigError('crudRouter.authorize', 'must return a request handler');
        handlers.push(handler);
      }
      guards.set(action, handlers);
    }
    return handlers;
  };

  router.get('/', guard, ...authorize('list'), route(listRoute(state, state.live)));
  router.post('/', guard, json, ...authorize('create'), route(createRoute(state)));
  const maxBatch = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
  router.post('/batch', guard, json, ...authorize('create'), route(batchRoute(state, maxBatch)));
  if (state.softDelete) {
    router.get('/trash', guard, ...authorize('list'), route(listRoute(state, state.trashed)));
    router.post('/trash/:id/restore', guard, ...authorize('restore'), route(restoreRoute(state)));
    router.delete('/trash/:id', guard, ...authorize('purge'), route(purgeRoute(state)));
  }
  router.get('/unique/:field', guard, ...authorize('list'), route(uniqueRoute(state)));
  router.post('/search/:key', guard, json, ...authorize('list'), route(searchRoute(state)));
  for (const field of options.staticPathFilters ?? []) {
    const pathFilter = (req: Request) => ({ [field]: String(req.params.value) });
    router.get(`/${field}/:value`, guard, ...authorize('list'), route(listRoute(state, state.live, pathFilter)));
  }
  if (isResident(state.store)) {
    router.post('/:id/move', guard, json, ...authorize('update'), route(moveRoute(state)));
  }
  if (options.history) {
    // Its own action (`<resource>:history`): past states may show what a reader of today's record never saw.
    router.get('/:id/history', guard, ...authorize('history'), route(historyRoute(state, options.history)));
  }
  if (options.attachments) mountAttachments(router, state, options.attachments, { guard, json, authorize, route });
  if (options.dynamicPathFilter ?? true) {
    const pathFilter = (req: Request) => ({ [String(req.params.searchKey)]: String(req.params.searchValue) });
    router.get(
      '/:searchKey/:searchValue',
      guard,
      ...authorize('list'),
      route(listRoute(state, state.live, pathFilter)),
    );
  }
  router.get('/:id', guard, ...authorize('read'), route(getRoute(state)));
  router.patch('/:id', guard, json, ...authorize('update'), route(updateRoute(state, 'patch')));
  if (options.allowReplace) router.put('/:id', guard, json, ...authorize('update'), route(updateRoute(state, 'put')));
  router.delete('/:id', guard, ...authorize('delete'), route(deleteRoute(state)));
  return describeRouter(Object.assign(router, { store: state.store }), describeCrud(state, authorize));
}

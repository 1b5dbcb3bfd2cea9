// The caller's permissions as the router applies them: endpoints, hidden fields, record filters, update rules.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isEndpointPermitted } from '../../src/auth/permissions.js';
import type { EffectivePermissions } from '../../src/auth/principal.js';
import { ForbiddenError, type FieldProblem } from '../../src/errors.js';
import { contextOf } from '../context.js';
import { covers } from './body.js';

const noneHidden: ReadonlySet<string> = new Set();
const hiddenCache = new WeakMap<EffectivePermissions, ReadonlySet<string>>();

export function permissionsOf(req: Request): EffectivePermissions | undefined {
  return contextOf(req).permissions;
}

/** Fields the caller may not see (scoutr's exclude fields); none without `authenticate`. */
export function hiddenFields(permissions: EffectivePermissions | undefined): ReadonlySet<string> {
  if (!permissions || permissions.excludeFields.length === 0) return noneHidden;
  let hidden = hiddenCache.get(permissions);
  if (!hidden) {
    hidden = new Set(permissions.excludeFields);
    hiddenCache.set(permissions, hidden);
  }
  return hidden;
}

/** True when `path` is hidden or inside a hidden field. */
export function isHidden(hidden: ReadonlySet<string>, path: string): boolean {
  if (hidden.size === 0) return false;
  if (hidden.has(path)) return true;
  // Below a hidden field: `field.` starts the path (checked without building that string, per key and record).
  for (const field of hidden)
    if (path.length > field.length && path.charCodeAt(field.length) === 46 && path.startsWith(field)) return true;
  return false;
}

/** Refuses calls outside the permitted endpoints (method + anchored path regex); open without permissions. */
export function endpointGuard(): RequestHandler {
  return function portcullisCrudEndpoint(req: Request, _res: Response, next: NextFunction) {
    const permissions = permissionsOf(req);
    // `/people/` and `/people` are one endpoint: the router's root has no trailing slash.
    const path = `${req.baseUrl}${req.path === '/' && req.baseUrl ? '' : req.path}`;
    if (permissions && !isEndpointPermitted(permissions, req.method, path)) {
      next(new ForbiddenError(`You may not call ${req.method} ${path.slice(0, 200)}.`, { code: 'forbidden.endpoint' }));
      return;
    }
    next();
  };
}

/** Fields of an update this caller may not change (restricted, or outside the permitted list). */
export function forbiddenUpdates(
  permissions: EffectivePermissions | undefined,
  paths: readonly string[],
): FieldProblem[] {
  if (!permissions) return [];
  const problems: FieldProblem[] = [];
  const permitted = permissions.updateFieldsPermitted;
  for (const path of paths) {
    const restricted = permissions.updateFieldsRestricted.some((field) => covers(field, path));
    const outside = permitted.length > 0 && !permitted.some((field) => path === field || path.startsWith(`${field}.`));
    if (restricted || outside) {
      problems.push({ field: path, code: 'forbidden.update_field', message: `You may not update "${path}".` });
    }
  }
  return problems;
}

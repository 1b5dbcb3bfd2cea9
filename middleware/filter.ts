// filterQuery(options): compiles the list querystring onto the request context, for custom list handlers.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createQueryCompiler, type QueryCompilerOptions } from '../src/filter/index.js';
import { queryCompilerOptionNames } from '../src/filter/settings.js';
import { checkOptions } from '../src/options.js';
import { hiddenFields, permissionsOf } from './crud/access.js';
import { cursorView, rawQuery } from './crud/state.js';
import { contextOf } from './context.js';

export interface FilterQueryOptions extends QueryCompilerOptions {
  /** Path filters of the request (e.g. from route params); they take precedence over the querystring. */
  pathFilters?: (req: Request) => Record<string, string> | undefined;
}

/**
 * Puts the compiled `ParsedListQuery` on `contextOf(req).query` (filter already AND'ed with the caller's
 * permission filters; hidden fields refused like unknown ones; cursors bound to the caller). Bad queries go to
 * `next(err)` as 400.
 */
export function filterQuery(options: FilterQueryOptions): RequestHandler {
  const { pathFilters, ...compilerOptions } = checkOptions('filterQuery()', options, [
    ...queryCompilerOptionNames,
    'pathFilters',
  ]);
  const compiler = createQueryCompiler(compilerOptions);
  return function portcullisFilter(req: Request, _res: Response, next: NextFunction) {
    try {
      const permissions = permissionsOf(req);
      const hidden = hiddenFields(permissions);
      const paths = pathFilters?.(req);
      contextOf(req).query = compiler.compile(rawQuery(req), {
        hiddenFields: hidden,
        ...(permissions ? { filters: permissions.filters } : {}),
        ...(paths ? { pathFilters: paths } : {}),
        view: cursorView(req, [...hidden].sort().join('\n')),
      });
      next();
    } catch (error) {
      next(error);
    }
  };
}

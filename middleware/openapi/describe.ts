// How a router describes its routes for the OpenAPI document: a describer attached to the router itself.
import type { Request } from 'express';
import type { ProblemCodes } from '../../src/openapi/problems.js';
import type { JsonSchema, OpenApiParameter, OpenApiPathItem } from '../../src/openapi/types.js';

/** A router's routes, with paths relative to where it is mounted (`/` is the mount path itself). */
export interface RouterDescription {
  paths: Record<string, OpenApiPathItem>;
  /** Schemas its operations refer to as `#/components/schemas/<name>`. */
  schemas?: Record<string, JsonSchema>;
  /** Parameters its operations refer to as `#/components/parameters/<name>`. */
  parameters?: Record<string, OpenApiParameter>;
  tags?: { name: string; description?: string }[];
  /** What a guard answers before the routers mounted after it (`authorize()`): added to each of their routes. */
  problems?: ProblemCodes;
}

export interface DescribeContext {
  /**
   * The caller the document is for: fields it may not see are left out, and fields it sees masked are
   * neither filters nor sort keys. Without one: a caller with no excluded field and no unmask grant.
   */
  request?: Request;
}

export type Describer = (context: DescribeContext) => RouterDescription;

const DESCRIBER = Symbol.for('portcullis.openapi.describer');

/** A router that can describe its routes (every prebuilt Portcullis router is one). */
export type DescribedRouter = { readonly [DESCRIBER]: Describer };

/** Attaches `describer` to `router` (for routers of your own that `openApiDocument` should include). */
export function describeRouter<T extends object>(router: T, describer: Describer): T & DescribedRouter {
  Object.defineProperty(router, DESCRIBER, { value: describer, enumerable: false });
  return router as T & DescribedRouter;
}

/** Marks a middleware as a guard answering `problems` in front of whatever is mounted after it. */
export function describeGuard<T extends object>(handler: T, problems: ProblemCodes): T & DescribedRouter {
  const description: RouterDescription = { paths: {}, problems };
  guards.add(handler);
  return describeRouter(handler, () => description);
}

const guards = new WeakSet<object>();

/** True for a handler described by `describeGuard` (it has no routes of its own). */
export function isGuard(handler: unknown): boolean {
  return typeof handler === 'object' || typeof handler === 'function' ? guards.has(handler as object) : false;
}

export function describerOf(router: unknown): Describer | undefined {
  if ((typeof router !== 'function' && typeof router !== 'object') || router === null) return undefined;
  const describer = (router as Partial<DescribedRouter>)[DESCRIBER];
  return typeof describer === 'function' ? describer : undefined;
}

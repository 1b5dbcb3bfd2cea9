// What routing matched a request, remembered as Express sets it, for the metrics and the audit trail alike.
import type { Request } from 'express';

export interface Routing {
  /** The last route matched: its pattern (a string, or what else Express accepts) and the mount path before it. */
  route: { baseUrl: string; path: unknown } | undefined;
  /** The last non-empty path parameters a router set (a copy). */
  params: Record<string, string>;
}

const routings = new WeakMap<Request, Routing>();

// Express restores req.params and req.baseUrl when a router is left, which happens before error handlers
// answer a failed or denied request, and sets req.route only while the route runs. Each of the two
// documented properties is remembered as it is set, whatever order a router sets them in; req.baseUrl, read
// then, is the mount path of the router matching the route. One watch per request, whoever asks first.
/** The request's routing, watched from the first call on: call it before the routers run. */
export function routingOf(req: Request): Routing {
  const routing = routings.get(req);
  if (routing) return routing;
  const watched: Routing = { route: undefined, params: {} };
  routings.set(req, watched);
  watch(req, 'params', (value: Record<string, string> | undefined) => {
    if (value && Object.keys(value).length > 0) watched.params = { ...value };
  });
  watch(req, 'route', (value: { path?: unknown } | undefined) => {
    if (value?.path !== undefined) watched.route = { baseUrl: req.baseUrl ?? '', path: value.path };
  });
  return watched;
}

/** Makes `req[name]` an ordinary-looking property that also calls `onSet` with each value assigned. */
function watch<T>(req: Request, name: 'params' | 'route', onSet: (value: T) => void): void {
  let current = (req as unknown as Record<string, T>)[name];
  Object.defineProperty(req, name, {
    configurable: true,
    enumerable: true,
    get: () => current,
    set(value: T) {
      current = value;
      onSet(value);
    },
  });
}

// Attaches the typed Portcullis context to Express requests and creates it on first use.
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { RequestContext } from '../src/context.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own extension point
  namespace Express {
    interface Request {
      /** Portcullis's per-request state; use `contextOf(req)` to read it even before `requestContext()` ran. */
      portcullis?: RequestContext;
    }
  }
}

// Accept caller-supplied ids only in a shape that is safe to log and echo back.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's context, created on first access so each middleware also works alone. `accept` may refuse
 * a supplied id of the safe shape (see requestContext's masker option); a refused id is replaced.
 */
export function contextOf(
  req: Request,
  requestIdHeader = 'x-request-id',
  accept?: (id: string) => boolean,
): RequestContext {
  if (!req.portcullis) {
    const supplied = req.headers[requestIdHeader];
    const requestId =
      typeof supplied === 'string' && SAFE_REQUEST_ID.test(supplied) && (accept?.(supplied) ?? true)
        ? supplied
        : randomUUID();
    req.portcullis = { requestId, startedAt: performance.now() } as RequestContext;
  }
  return req.portcullis;
}

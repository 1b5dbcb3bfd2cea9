// The HTTP server createPortcullis listens with: bounded time to receive a request and a cap on connections.
import { createServer, type RequestListener, type Server } from 'node:http';
import { integerOption } from '../src/options.js';
import type { Logger } from '../src/logger.js';
import { handleClientErrors } from './client-error.js';

export interface HttpServerLimits {
  /** Longest time to receive one whole request (headers and body), in ms; slower ones get 408. Required. */
  requestTimeoutMs: number;
  /** Longest time to receive a request's headers, in ms, at most `requestTimeoutMs`. Required. */
  headersTimeoutMs: number;
  /** Most connections open at once; further ones are closed as they arrive. Required. */
  maxConnections: number;
  logger?: Pick<Logger, 'warn'>;
  /** Clock of the once-a-minute drop warning. Default `Date.now`. */
  now?: () => number;
}

const DROP_WARNING_INTERVAL_MS = 60_000;

/**
 * An HTTP server for `listener` whose clients cannot hold a connection by sending slowly: Node's own
 * defaults give a request 300 s and check only every 30 s, and cap no connections.
 */
export function createHttpServer(listener: RequestListener, limits: HttpServerLimits): Server {
  const requestTimeout = integerOption('requestTimeoutMs', limits.requestTimeoutMs, { min: 1 });
  const headersTimeout = integerOption('headersTimeoutMs', limits.headersTimeoutMs, { min: 1, max: requestTimeout });
  const maxConnections = integerOption('maxConnections', limits.maxConnections, { min: 1 });
  const now = limits.now ?? Date.now;
  const server = createServer(
    {
      requestTimeout,
      headersTimeout,
      // How often Node looks for late requests: a quarter of the timeout, at most a second, so a slow
      // request is cut at most that long after its deadline.
      connectionsCheckingInterval: Math.min(1000, Math.max(1, Math.floor(headersTimeout / 4))),
    },
    listener,
  );
  server.maxConnections = maxConnections;
  let warnedAt = -Infinity;
  let dropped = 0;
  server.on('drop', () => {
    dropped++;
    if (now() - warnedAt < DROP_WARNING_INTERVAL_MS) return;
    warnedAt = now();
    limits.logger?.warn(
      { code: 'server.max_connections', maxConnections, dropped },
      'connections refused: MAX_CONNECTIONS are open',
    );
    dropped = 0;
  });
  return handleClientErrors(server);
}

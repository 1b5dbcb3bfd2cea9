// Stops an HTTP server without cutting answered work short: drain connections, then flush and close what remains.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ConfigError } from '../src/errors.js';
import { integerOption } from '../src/options.js';
import type { Logger } from '../src/logger.js';

export interface ShutdownOptions {
  /** The whole budget in ms: draining connections, then `close()`. Required. */
  timeoutMs: number;
  /**
   * Part of the budget kept for `close()` however long draining takes, so the audit flush runs even when a
   * client holds its connection open. Default: a third of `timeoutMs`.
   */
  closeReserveMs?: number;
  /** Flushes and closes what outlives the connections (the audit pipeline first, then the stores). */
  close: () => Promise<void>;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export interface ShutdownResult {
  /** Every connection ended by itself (true) or the rest were cut at the drain deadline (false). */
  drained: boolean;
  /** `close()` finished within the budget without throwing. */
  closed: boolean;
}

/**
 * Returns a function that shuts `server` down once, however often it is called (SIGTERM then SIGINT):
 * stops accepting, closes idle keep-alive connections at once and busy ones after their response
 * (`Connection: close`), then runs `close()` within the rest of the budget.
 */
export function gracefulShutdown(server: Server, options: ShutdownOptions): () => Promise<ShutdownResult> {
  const { close, logger } = options;
  const timeoutMs = integerOption('timeoutMs', options.timeoutMs, { min: 1 });
  // Below timeoutMs: draining gets at least a millisecond.
  const closeReserveMs = integerOption('closeReserveMs', options.closeReserveMs, {
    fallback: Math.ceil(timeoutMs / 3),
    max: timeoutMs - 1,
  });
  if (typeof close !== 'function') throw new ConfigError('close', 'must be a function returning a promise');

  let result: Promise<ShutdownResult> | undefined;
  return () => (result ??= run());

  async function run(): Promise<ShutdownResult> {
    const started = Date.now();
    const drained = await drain(server, timeoutMs - closeReserveMs);
    if (!drained)
      logger?.warn(
        { timeoutMs: timeoutMs - closeReserveMs },
        'connections still open at the drain deadline were closed',
      );
    const remaining = Math.max(timeoutMs - (Date.now() - started), 1);
    const closed = await withinMs(close(), remaining).then(
      (finished) => finished,
      (error: unknown) => {
        logger?.error({ err: error }, 'closing after the server stopped failed');
        return false;
      },
    );
    if (!closed) logger?.error({ timeoutMs }, 'shutdown did not finish in time');
    return { drained, closed };
  }
}

/** Resolves true once every connection has ended, or false after cutting those still open at the deadline. */
async function drain(server: Server, deadlineMs: number): Promise<boolean> {
  // Keep-alive clients would otherwise hold their connections (and the process) until their idle timeout.
  const markClosing = (_request: IncomingMessage, response: ServerResponse) => {
    response.shouldKeepAlive = false;
  };
  server.on('request', markClosing);
  // A response that finishes on a connection leaves it idle only between requests; sweep those too.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const closed = new Promise<true>((resolve) => {
    if (!server.listening) return resolve(true);
    server.close(() => resolve(true));
  });
  server.closeIdleConnections();
  const drained = await withinMs(closed, deadlineMs);
  clearInterval(sweep);
  if (!drained) server.closeAllConnections();
  server.off('request', markClosing);
  return drained;
}

/** Whether `promise` settled within `ms` (a rejection still rejects). */
function withinMs(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  return Promise.race([promise.then(() => true as const), late]).finally(() => clearTimeout(timer));
}

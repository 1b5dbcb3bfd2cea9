// quota(): N uses of a named action per period per principal (apicrud's grants), with per-principal overrides.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Principal } from '../src/auth/principal.js';
import type { QuotaStore } from '../src/contracts/rate-limit.js';
import { AuthenticationError, ConfigError, RateLimitedError } from '../src/errors.js';
import { contextOf } from './context.js';
import { checkOptions, integerOption } from '../src/options.js';

export interface QuotaOptions {
  /** Quota counters (`stores.quotas`). Required. */
  store: QuotaStore;
  /** The action's name, e.g. `upload`; also the key of per-principal overrides in `principal.quotas`. Required. */
  action: string;
  /** Uses per period by default. Required. */
  limit: number;
  /** Period in ms; it starts at the first use. Default one day. */
  periodMs?: number;
  /** The limit for a principal, overriding `principal.quotas[action]` and `limit` when it returns a number. */
  limitFor?: (principal: Principal) => number | undefined;
  /** Called when a use is refused. */
  onLimited?: (action: string, req: Request) => void;
}

/**
 * Spends one use per request before the handler runs; when the allowance is spent the answer is 429 with
 * `Retry-After` (the end of the period). Sets `Quota-Limit`, `Quota-Remaining` and `Quota-Reset` (seconds).
 */
export function quota(options: QuotaOptions): RequestHandler {
  checkOptions('quota()', options, ['store', 'action', 'limit', 'periodMs', 'limitFor', 'onLimited']);
  if (typeof options?.store?.consume !== 'function') throw new ConfigError('store', 'must be a QuotaStore');
  if (typeof options.action !== 'string' || !/^[\w.-]{1,64}$/.test(options.action)) {
    throw new ConfigError('action', 'must be 1-64 letters, digits, _ . -');
  }
  if (options.limit === undefined) throw new ConfigError('limit', 'is required');
  integerOption('limit', options.limit, { fallback: 0 });
  const periodMs = integerOption('periodMs', options.periodMs, { fallback: 86_400_000, min: 1000 });
  const { store, action } = options;
  return async function portcullisQuota(req: Request, res: Response, next: NextFunction) {
    const principal = contextOf(req).principal;
    if (!principal || principal.kind === 'anonymous') {
      throw new AuthenticationError('Authentication required.', { code: 'authentication.required' });
    }
    const override = options.limitFor?.(principal) ?? principal.quotas?.[action];
    const limit = Number.isSafeInteger(override) && (override as number) >= 0 ? (override as number) : options.limit;
    const use = await store.consume(`${action}:${principal.kind}:${principal.id}`, limit, periodMs);
    const resetSeconds = Math.max(0, Math.ceil((use.resetAt.getTime() - Date.now()) / 1000));
    res.setHeader('Quota-Limit', String(limit));
    res.setHeader('Quota-Remaining', String(use.remaining));
    res.setHeader('Quota-Reset', String(resetSeconds));
    if (!use.allowed) {
      options.onLimited?.(action, req);
      throw new RateLimitedError(resetSeconds, `The ${action} quota is used up for this period.`, {
        code: 'rate_limited.quota',
      });
    }
    next();
  };
}

// rateLimit(): a fixed-window limit over a Portcullis counter store, keyed by API key, user, or client IP.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Address6 } from 'ip-address';
import { hash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { RateLimitHit, RateLimitStore } from '../src/contracts/rate-limit.js';
import { ConfigError, PortcullisError, RateLimitedError, StoreUnavailableError, didYouMean } from '../src/errors.js';
import { errorForLog, silentLogger, type Logger } from '../src/logger.js';
import { contextOf } from './context.js';

export interface RateLimitOptions {
  /** Counter store (`stores.rateLimit`). Required. */
  store: RateLimitStore;
  /** Requests allowed per window per client. Default 300. */
  limit?: number;
  /** Window length in ms. Default 60 000. */
  windowMs?: number;
  /** Names this limit's counters, so two routes with their own limits never share one. Default `global`. */
  name?: string;
  /** When the store is down: `open` serves without limiting (logged), `closed` answers 503. Default `open`. */
  onStoreError?: 'open' | 'closed';
  /** IPv6 clients are counted per subnet of this prefix length. Default 56. */
  ipv6Subnet?: number;
  /** Client key; default: API key id, else user id, else the client IP (`req.ip`, so set `trust proxy`). */
  keyGenerator?: (req: Request) => string;
  /** Called when a request is refused (e.g. `metrics.recordRateLimitHit`). */
  onLimited?: (name: string, req: Request) => void;
  /** Only count failed requests (status >= 400), e.g. for login. Default false. */
  countFailuresOnly?: boolean;
  /**
   * Send the IETF draft-8 `RateLimit` and `RateLimit-Policy` headers. Turn off for a limiter clients
   * should not plan by, such as a failure counter beside the real quota. Default true.
   */
  headers?: boolean;
  logger?: Logger;
}

const KNOWN = [
  'store',
  'limit',
  'windowMs',
  'name',
  'onStoreError',
  'ipv6Subnet',
  'keyGenerator',
  'onLimited',
  'countFailuresOnly',
  'headers',
  'logger',
];

/**
 * The address a client is counted under: IPv4 as is, IPv6 as its network of `ipv6Subnet` bits (one
 * customer usually holds a whole /56 or /64, and would otherwise get a fresh counter per address).
 */
export function clientAddress(ip: string, ipv6Subnet = 56): string {
  if (!isIPv6(ip)) return ip;
  const address = new Address6(ip);
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) clients count as the IPv4 address.
  if (address.isMapped4() || (address.is4() && address.isInSubnet(IPV4_COMPATIBLE))) return address.to4().correctForm();
  return new Address6(`${ip}/${ipv6Subnet}`).networkForm();
}
const IPV4_COMPATIBLE = new Address6('::/96');
const MAX_PARTITION_KEYS = 10_000;

/** The default client key: the authenticated credential when there is one, else the (grouped) IP. */
export function clientKey(req: Request, ipv6Subnet = 56): string {
  const principal = contextOf(req).principal;
  if (principal?.apiKeyId) return `key:${principal.apiKeyId}`;
  if (principal && principal.kind !== 'anonymous') return `user:${principal.id}`;
  return `ip:${clientAddress(req.ip ?? req.socket.remoteAddress ?? 'unknown', ipv6Subnet)}`;
}

/** Adds a header value after any a previous limiter set (`res.append` without Express's re-validation). */
function appendHeader(res: Response, name: string, value: string): void {
  const previous = res.getHeader(name);
  if (previous === undefined) res.setHeader(name, value);
  else res.setHeader(name, Array.isArray(previous) ? [...previous, value] : [String(previous), value]);
}

/**
 * A fixed-window rate limit; refusals are 429 problem+json with `Retry-After` and the standard `RateLimit`
 * headers (IETF draft 8). One counter increment per request; with `countFailuresOnly` a successful response
 * takes its hit back, so requests in flight count until they succeed.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  for (const key of Object.keys(options ?? {})) {
    if (!KNOWN.includes(key))
      throw new ConfigError(key, 'is not a rateLimit() option', { hint: didYouMean(key, KNOWN) });
  }
  if (typeof options?.store?.increment !== 'function') throw new ConfigError('store', 'must be a RateLimitStore');
  const limit = options.limit ?? 300;
  const windowMs = options.windowMs ?? 60_000;
  const name = options.name ?? 'global';
  const ipv6Subnet = options.ipv6Subnet ?? 56;
  const onStoreError = options.onStoreError ?? 'open';
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ConfigError('limit', 'must be a positive integer');
  if (!Number.isSafeInteger(windowMs) || windowMs < 1000) throw new ConfigError('windowMs', 'must be at least 1000');
  if (!/^[\w.-]{1,64}$/.test(name)) throw new ConfigError('name', 'must be 1-64 letters, digits, _ . -');
  if (!Number.isSafeInteger(ipv6Subnet) || ipv6Subnet < 32 || ipv6Subnet > 128) {
    throw new ConfigError('ipv6Subnet', 'must be between 32 and 128');
  }
  for (const flag of ['countFailuresOnly', 'headers'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean')
      throw new ConfigError(flag, 'must be true or false');
  }
  if (onStoreError !== 'open' && onStoreError !== 'closed')
    throw new ConfigError('onStoreError', 'must be open or closed');
  if (options.keyGenerator !== undefined && typeof options.keyGenerator !== 'function')
    throw new ConfigError('keyGenerator', 'must be a function (req) => string');
  const store = options.store;
  const logger = options.logger ?? silentLogger;
  const keyGenerator = options.keyGenerator ?? ((req: Request) => clientKey(req, ipv6Subnet));
  const prefix = `${name}:`;
  const sendHeaders = options.headers !== false;
  const countFailuresOnly = options.countFailuresOnly ?? false;
  const windowSeconds = Math.ceil(windowMs / 1000);

  function setHeaders(res: Response, key: string, remaining: number, resetTime: Date): void {
    if (res.headersSent) return;
    const resetSeconds = Math.max(0, Math.ceil((resetTime.getTime() - Date.now()) / 1000));
    const partitionKey = partitionKeyOf(key);
    appendHeader(res, 'RateLimit', `"${name}"; r=${remaining}; t=${resetSeconds}`);
    appendHeader(res, 'RateLimit-Policy', `"${name}"; q=${limit}; w=${windowSeconds}; pk=:${partitionKey}:`);
  }

  // The partition key tells a client which of its counters a policy is about, without revealing the key.
  // A client sends many requests: its hash is kept (a bounded map, emptied when full) instead of redone.
  const partitionKeys = new Map<string, string>();
  function partitionKeyOf(key: string): string {
    let partitionKey = partitionKeys.get(key);
    if (partitionKey === undefined) {
      partitionKey = Buffer.from(hash('sha256', key, 'hex').slice(0, 12)).toString('base64');
      if (partitionKeys.size >= MAX_PARTITION_KEYS) partitionKeys.clear();
      partitionKeys.set(key, partitionKey);
    }
    return partitionKey;
  }

  function takeBackOnSuccess(res: Response, counterKey: string, resetTime: Date): void {
    res.once('finish', () => {
      // A window that has ended took its hits with it; a failure keeps its hit.
      if (res.statusCode >= 400 || Date.now() >= resetTime.getTime()) return;
      store.decrement(counterKey).catch((error: unknown) => storeFailed(error));
    });
  }

  function storeFailed(error: unknown): void {
    logger.warn(
      { code: 'rate_limit.store_error', limit: name, err: errorForLog(error).name },
      'rate limit not applied',
    );
  }

  return function portcullisRateLimit(req: Request, res: Response, next: NextFunction) {
    let key: string;
    try {
      key = String(keyGenerator(req));
    } catch (error) {
      next(error);
      return;
    }
    const counterKey = prefix + key;
    let counted: Promise<RateLimitHit>;
    try {
      counted = store.increment(counterKey, windowMs);
    } catch (error) {
      // A store that throws instead of rejecting is treated like one that rejects.
      counted = Promise.reject(error);
    }
    counted.then(
      ({ totalHits, resetTime }) => {
        if (sendHeaders) setHeaders(res, key, Math.max(limit - totalHits, 0), resetTime);
        if (countFailuresOnly) takeBackOnSuccess(res, counterKey, resetTime);
        if (totalHits <= limit) {
          next();
          return;
        }
        options.onLimited?.(name, req);
        const seconds = (resetTime.getTime() - Date.now()) / 1000;
        next(new RateLimitedError(seconds, 'Too many requests; try again later.', { code: 'rate_limited' }));
      },
      (error: unknown) => {
        storeFailed(error);
        if (onStoreError === 'open') next();
        else next(error instanceof PortcullisError ? error : new StoreUnavailableError('rate-limit'));
      },
    );
  };
}

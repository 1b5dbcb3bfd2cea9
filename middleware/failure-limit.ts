// failureLimit(): failed credential checks counted per (address, account) and per address, to stop guessing without locking others out.
import type { Request } from 'express';
import type { RateLimitHit, RateLimitStore } from '../src/contracts/rate-limit.js';
import { ConfigError, PortcullisError, RateLimitedError, StoreUnavailableError } from '../src/errors.js';
import { errorForLog, silentLogger, type Logger } from '../src/logger.js';
import { checkOptions, integerOption } from '../src/options.js';
import { addressKey } from './rate-limit.js';

export interface FailureLimitOptions {
  /** Counter store (`stores.rateLimit`); two views of it, `failures-account` and `failures-address`. Required. */
  store: RateLimitStore;
  /** Failed checks of one account (username, API key id) from one address per window before that account is refused from that address. Default 10. */
  accountLimit?: number;
  /**
   * Failed checks from one address per window, all accounts together, before every account that has failed
   * from it is refused from it. Accounts without a failure there, and so a valid credential, still pass.
   * Default 300.
   */
  addressLimit?: number;
  /** Window in ms. Default 60 000. */
  windowMs?: number;
  /**
   * Count an account's failures over every address together instead of per address. For a check that only
   * the holder of a first credential reaches (a second factor after the password), where a lockout by others
   * is not possible and guessing from many addresses is. Default false.
   */
  accountAcrossAddresses?: boolean;
  /** Name of the counters and of the limit in logs and `onLimited`; two limits on one store need two names. Default `failures`. */
  name?: string;
  /** When the store is down: `open` checks credentials without limits (logged), `closed` answers 503. Default `open`. */
  onStoreError?: 'open' | 'closed';
  /** IPv6 clients are counted per subnet of this prefix length. Default 56. */
  ipv6Subnet?: number;
  /** Called when a check is refused (e.g. `metrics.recordRateLimitHit`). */
  onLimited?: (name: string, req: Request) => void;
  logger?: Logger;
}

/**
 * Where a credential check is about to run (`check`), and how it ended (`succeeded`, `failed`). An account is
 * whatever names the guessed credential (`user:<username>`, `key:<key id>`); a failure without one (a
 * malformed or forged token) counts for the address only.
 */
export interface FailureLimit {
  /**
   * Reserves one attempt at `account` from this request's address, counted before the credential is checked
   * so that a burst of concurrent guesses cannot all pass a check made before any of them failed; throws a
   * 429 `RateLimitedError` when the account may not be tried from this address now. Follow it with
   * `succeeded` (which gives the attempt back) or `failed`.
   */
  check(req: Request, account: string): Promise<void>;
  /** The reserved attempt was a valid credential: it does not count as a failure. Never throws. */
  succeeded(req: Request, account: string): Promise<void>;
  /** Counts one failed check (the account too, unless `check` reserved it); never throws. */
  failed(req: Request, account?: string): Promise<void>;
}

/**
 * The failure limit of the credential checks. A per-address limit alone lets anyone sharing an address (an
 * office, a NAT) lock everyone else there out, so the hard limit is per (address, account): guesses at one
 * account from one address stop there, while other accounts, and that account from elsewhere, go on. The
 * address limit, higher, catches spraying one guess over many accounts: past it, each account may fail only
 * once from that address per window.
 */
export function failureLimit(options: FailureLimitOptions): FailureLimit {
  checkOptions('failureLimit()', options, [
    'store',
    'accountLimit',
    'addressLimit',
    'windowMs',
    'onStoreError',
    'ipv6Subnet',
    'accountAcrossAddresses',
    'name',
    'onLimited',
    'logger',
  ]);
  if (typeof options?.store?.forLimiter !== 'function' || typeof options.store.get !== 'function')
    throw new ConfigError('store', 'must be a Portcullis RateLimitStore (stores.rateLimit)');
  const accountLimit = integerOption('accountLimit', options.accountLimit, { fallback: 10, min: 1 });
  const addressLimit = integerOption('addressLimit', options.addressLimit, { fallback: 300, min: 1 });
  const windowMs = integerOption('windowMs', options.windowMs, { fallback: 60_000, min: 1000 });
  const ipv6Subnet = integerOption('ipv6Subnet', options.ipv6Subnet, { fallback: 56, min: 32, max: 128 });
  const onStoreError = options.onStoreError ?? 'open';
  if (onStoreError !== 'open' && onStoreError !== 'closed')
    throw new ConfigError('onStoreError', 'must be open or closed');
  if (options.onLimited !== undefined && typeof options.onLimited !== 'function')
    throw new ConfigError('onLimited', 'must be a function');
  const limitName = options.name ?? 'failures';
  if (typeof limitName !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(limitName))
    throw new ConfigError('name', 'must be 1-32 lower-case letters, digits or dashes');
  const acrossAddresses = options.accountAcrossAddresses ?? false;
  if (typeof acrossAddresses !== 'boolean') throw new ConfigError('accountAcrossAddresses', 'must be a boolean');
  const logger = options.logger ?? silentLogger;
  const onLimited = options.onLimited;
  const accounts = options.store.forLimiter(`${limitName}-account`);
  const addresses = options.store.forLimiter(`${limitName}-address`);
  void accounts.init({ windowMs });
  void addresses.init({ windowMs });

  function storeFailed(error: unknown): void {
    logger.warn(
      { code: 'rate_limit.store_error', limit: limitName, err: errorForLog(error).name },
      'failure limit not applied',
    );
  }

  function refuse(req: Request, hit: RateLimitHit): never {
    onLimited?.(limitName, req);
    throw new RateLimitedError(
      (hit.resetTime.getTime() - Date.now()) / 1000,
      acrossAddresses
        ? 'Too many failed attempts for this account; try again later.'
        : 'Too many failed attempts for this account from this address; try again later.',
      { code: 'rate_limited.failures' },
    );
  }

  const accountKey = (address: string, account: string) => (acrossAddresses ? account : `${address}|${account}`);

  // The accounts each request has reserved an attempt at, so that `failed` does not count them twice.
  const reserved = new WeakMap<Request, Set<string>>();

  async function succeeded(req: Request, account: string): Promise<void> {
    if (!reserved.get(req)?.delete(account)) return;
    try {
      await accounts.decrement(accountKey(addressKey(req, ipv6Subnet), account));
    } catch (error) {
      storeFailed(error);
    }
  }

  return {
    async check(req, account) {
      const address = addressKey(req, ipv6Subnet);
      let pair: RateLimitHit;
      let all: RateLimitHit | undefined;
      try {
        pair = await accounts.increment(accountKey(address, account));
        let mine = reserved.get(req);
        if (!mine) reserved.set(req, (mine = new Set()));
        mine.add(account);
        // Attempts before this one (failed, or still being checked). An account that never failed from here is
        // never refused because of the address: that is what keeps others from locking it out.
        const before = pair.totalHits - 1;
        if (before >= 1 && before < accountLimit) all = await addresses.get(address);
      } catch (error) {
        storeFailed(error);
        if (onStoreError === 'open') return;
        throw error instanceof PortcullisError ? error : new StoreUnavailableError('rate-limit', { cause: error });
      }
      const over = pair.totalHits > accountLimit ? pair : all && all.totalHits >= addressLimit ? all : undefined;
      if (over) {
        // A refused attempt checks nothing: give its reservation back, so the counter holds failures (and checks
        // in flight) only.
        await succeeded(req, account);
        refuse(req, over);
      }
    },

    succeeded,

    async failed(req, account) {
      const address = addressKey(req, ipv6Subnet);
      const countAccount = account !== undefined && !reserved.get(req)?.delete(account);
      try {
        await Promise.all([
          addresses.increment(address),
          countAccount ? accounts.increment(accountKey(address, account)) : undefined,
        ]);
      } catch (error) {
        storeFailed(error);
      }
    },
  };
}

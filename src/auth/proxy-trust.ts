// Decides whether a peer address is a configured trusted proxy (addresses and CIDR ranges, IPv4 and IPv6).
import { ipRangesFrom } from '../ip.js';

export interface ProxyTrust {
  /** True when `address` (the TCP peer, never a forwarded header) is a trusted proxy. */
  trusts(address: string | undefined): boolean;
  readonly size: number;
}

/**
 * Builds the allowlist once; an entry that is not an address or `address/prefix` is a `ConfigError`. Peers
 * are matched by src/ip.ts: an IPv4 peer on a dual-stack socket (`::ffff:10.0.0.5`) is the IPv4 address
 * (ABAC's `CIDR` rule keeps vakt's families as written; `authorize()` hands it the IPv4 address instead).
 */
export function createProxyTrust(entries: readonly string[], option = 'trustedProxies'): ProxyTrust {
  const ranges = ipRangesFrom(entries, option);
  return {
    size: ranges.size,
    trusts: (address) => ranges.has(address),
  };
}

// Decides whether a peer address is a configured trusted proxy (addresses and CIDR subnets, IPv4 and IPv6).
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors.js';

export interface ProxyTrust {
  /** True when `address` (the TCP peer, never a forwarded header) is a trusted proxy. */
  trusts(address: string | undefined): boolean;
  readonly size: number;
}

/** Builds the allowlist once; an entry that is not an address or `address/prefix` is a `ConfigError`. */
export function createProxyTrust(entries: readonly string[], option = 'trustedProxies'): ProxyTrust {
  const list = new BlockList();
  entries.forEach((entry, index) => {
    const [address, prefix, extra] = entry.trim().split('/');
    const family = isIP(address ?? '');
    if (!address || family === 0 || extra !== undefined) {
      throw new ConfigError(`${option}[${index}]`, `"${entry}" is not an IP address or CIDR subnet`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      return;
    }
    const bits = Number(prefix);
    if (!/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) {
      throw new ConfigError(`${option}[${index}]`, `"${entry}" has an invalid prefix length`);
    }
    list.addSubnet(address, bits, type);
  });
  return {
    size: entries.length,
    trusts(address) {
      if (!address || entries.length === 0) return false;
      // IPv4 peers on a dual-stack socket appear as ::ffff:a.b.c.d.
      const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
      const family = isIP(plain);
      if (family === 0) return false;
      return list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

// Parsers for the network variables: the interface to bind (HOST) and Express's `trust proxy` (TRUST_PROXY).
import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';
import { parseIpRange } from '../ip.js';

/** What Express's `app.set('trust proxy', …)` accepts: a switch, a hop count, or addresses and subnets. */
export type TrustProxy = boolean | number | string[];

// proxy-addr's names for the ranges it knows; anything else in the list must be an address or a subnet.
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];
// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Parses the text of TRUST_PROXY; throws an `Error` saying what is wrong (the loader names the variable). */
export function trustProxyValue(raw: string): TrustProxy {
  const value = raw.trim();
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new Error('must be true, false, a hop count or a list of addresses');
  for (const item of items) {
    if (!NAMED_RANGES.includes(item) && !parseIpRange(item)) {
      throw new Error(
        `"${item.slice(0, 60)}" is not true, false, a hop count, ${NAMED_RANGES.join(', ')}, an IP address or a CIDR subnet`,
      );
    }
  }
  return items;
}

/**
 * TRUST_PROXY's text as Express wants it: `app.set('trust proxy', parseTrustProxy(text))`. `loadConfig()`
 * already gives `config.TRUST_PROXY` in this form; this is for values from elsewhere. Throws `ConfigError`.
 */
export function parseTrustProxy(raw: string, option = 'TRUST_PROXY'): TrustProxy {
  try {
    return trustProxyValue(raw);
  } catch (error) {
    throw new ConfigError(option, (error as Error).message);
  }
}

/** Checks HOST: an IP address or a host name (resolution happens when the server binds). */
export function hostValue(raw: string): string {
  const value = raw.trim();
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (isIP(bare) || HOST_NAME.test(value)) return bare;
  throw new Error(`must be an IP address or a host name, got "${raw.slice(0, 80)}"`);
}

/** A `host:port` address (`[::1]:26379` for IPv6), e.g. one of REDIS_SENTINELS. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `host:port` (`[v6]:port`), the `index`th entry of a list; throws an `Error` saying what is wrong (the
 * loader names the variable). A URL (`redis://user:password@host:port`) is a likely mistake here and may
 * carry a password, so an entry with `@` or `/` is named by its place, never quoted.
 */
export function hostPortValue(raw: string, index = 0): HostPort {
  const value = raw.trim();
  const shown = /[@/]/.test(value) ? `entry ${index + 1} (a URL? give host:port)` : `"${raw.slice(0, 80)}"`;
  const match = /^(\[[^\]]*\]|[^:]*):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || !match[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${shown} is not host:port with a port 1..65535`);
  }
  try {
    return { host: hostValue(match[1]), port };
  } catch {
    throw new Error(`must be an IP address or a host name, got ${shown}`);
  }
}

// IP addresses and ranges, on node:net: the one parser behind ABAC's CIDR rule and the trusted proxy list.
import { LRUCache } from 'lru-cache';
import { BlockList, isIP, SocketAddress } from 'node:net';
import { ConfigError } from './errors.js';

export type IpFamily = 4 | 6;

/** An address as it is compared: IPv4-mapped IPv6 already turned into IPv4. */
export interface IpAddress {
  readonly address: string;
  readonly family: IpFamily;
}

/** `address/prefix`, normalised like addresses (`::ffff:127.0.0.0/104` is `127.0.0.0/8`). */
export interface IpRange extends IpAddress {
  readonly prefix: number;
}

// `0000:0000:0000:0000:0000:ffff:255.255.255.255`: no literal address is longer.
const MAX_ADDRESS_LENGTH = 45;
const MAPPED_PREFIX = '::ffff:';
// Answers remembered per range set; the map is emptied when full, so its size stays bounded.
const SEEN_LIMIT = 4096;

/**
 * Parses an IP address literal. IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`, `::ffff:7f00:1`,
 * `0:0:0:0:0:ffff:7f00:1`, what a dual-stack socket reports for an IPv4 client) become the IPv4 address, so
 * every rule sees one form per client. Anything else (hostnames, zone ids, surrounding spaces, octets with
 * leading zeros, non-strings) is `undefined`.
 */
export function parseIpAddress(value: unknown): IpAddress | undefined {
  if (typeof value !== 'string' || value.length > MAX_ADDRESS_LENGTH) return undefined;
  const family = isIP(value);
  if (family === 4) return { address: value, family: 4 };
  // isIP accepts zone ids (`fe80::1%eth0`); a zone is local to one host and never names a client.
  if (family !== 6 || value.includes('%')) return undefined;
  // node's own spelling of an IPv4 client on a dual-stack socket, the common case, needs no canonical form.
  if (value.startsWith(MAPPED_PREFIX) && isIP(value.slice(MAPPED_PREFIX.length)) === 4) {
    return { address: value.slice(MAPPED_PREFIX.length), family: 4 };
  }
  // Every other spelling of a mapped address holds `ffff`; the others skip the canonical form's cost.
  if (!/ffff/i.test(value)) return { address: value, family: 6 };
  const canonical = new SocketAddress({ address: value, family: 'ipv6' }).address;
  if (canonical.startsWith(MAPPED_PREFIX)) {
    const ipv4 = canonical.slice(MAPPED_PREFIX.length);
    if (isIP(ipv4) === 4) return { address: ipv4, family: 4 };
  }
  return { address: value, family: 6 };
}

/** Parses `address/prefix`, or a bare address (one host). Host bits are allowed and ignored. */
export function parseIpRange(value: unknown): IpRange | undefined {
  if (typeof value !== 'string') return undefined;
  const slash = value.indexOf('/');
  const prefixText = slash === -1 ? undefined : value.slice(slash + 1);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  // Parsed as written first: a mapped range counts its prefix over 128 bits, not over the IPv4 address.
  const text = slash === -1 ? value : value.slice(0, slash);
  const written = isIP(text);
  const ip = parseIpAddress(text);
  if (!ip || written === 0) return undefined;
  const bits = written === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  if (written === 6 && ip.family === 4) {
    // A mapped range narrower than ::ffff:0:0/96 is an IPv4 range; a wider one stays IPv6.
    if (prefix >= 96) return { address: ip.address, family: 4, prefix: prefix - 96 };
    return { address: text, family: 6, prefix };
  }
  return { ...ip, prefix };
}

/**
 * A set of ranges. An address matches a range of its own family only (after mapped addresses become IPv4):
 * `::/0` holds no IPv4 client, as in vakt, while `::ffff:0:0/96` holds every one.
 */
export class IpRanges {
  readonly size: number;
  readonly #v4 = new BlockList();
  readonly #v6 = new BlockList();
  #hasV4 = false;
  #hasV6 = false;
  readonly #seen = new LRUCache<string, boolean>({ max: SEEN_LIMIT });

  constructor(ranges: readonly IpRange[]) {
    this.size = ranges.length;
    for (const range of ranges) {
      // node's BlockList matches IPv4 addresses against IPv6 rules: one list per family keeps families apart.
      if (range.family === 4) {
        this.#v4.addSubnet(range.address, range.prefix, 'ipv4');
        this.#hasV4 = true;
      } else {
        this.#v6.addSubnet(range.address, range.prefix, 'ipv6');
        this.#hasV6 = true;
      }
    }
  }

  /** True when `address` is a literal address inside one of the ranges. */
  has(address: unknown): boolean {
    if (typeof address !== 'string' || address.length > MAX_ADDRESS_LENGTH) return false;
    // A BlockList check builds a SocketAddress (µs); a service sees the same few client addresses again and again.
    let inside = this.#seen.get(address);
    if (inside === undefined) {
      inside = this.#check(address);
      this.#seen.set(address, inside);
    }
    return inside;
  }

  #check(address: string): boolean {
    const ip = parseIpAddress(address);
    if (!ip) return false;
    if (ip.family === 4) return this.#hasV4 && this.#v4.check(ip.address, 'ipv4');
    return this.#hasV6 && this.#v6.check(ip.address, 'ipv6');
  }
}

/** Builds ranges from configuration; an entry that is not an address or `address/prefix` names `option[index]`. */
export function ipRangesFrom(entries: readonly string[], option: string): IpRanges {
  if (!Array.isArray(entries)) throw new ConfigError(option, 'must be a list of IP addresses or CIDR ranges');
  const ranges = entries.map((entry, index) => {
    const range = parseIpRange(typeof entry === 'string' ? entry.trim() : '');
    if (range) return range;
    throw new ConfigError(`${option}[${index}]`, ipRangeProblem(entry)!);
  });
  return new IpRanges(ranges);
}

/** What is wrong with `entry` as an address or CIDR range, quoting it; `undefined` when it is one. */
export function ipRangeProblem(entry: unknown): string | undefined {
  const text = typeof entry === 'string' ? entry.trim() : '';
  if (parseIpRange(text)) return undefined;
  const shown = `"${String(entry).slice(0, 60)}"`;
  return text.includes('/') && parseIpAddress(text.split('/')[0])
    ? `${shown} has an invalid prefix length`
    : `${shown} is not an IP address or CIDR range`;
}

const WITH_PORT_V4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const WITH_PORT_V6 = /^\[([^\]]{2,45})\](?::\d{1,5})?$/;

/**
 * The client address of a request (`req.ip`) as rules and counters should see it: a literal address (mapped
 * IPv4 as IPv4), with the port some proxies append (`203.0.113.7:51234`, `[2001:db8::1]:443`) removed, or
 * `undefined` when it is no address at all. Every user of a client address goes through here, so a spelling
 * that one of them read as another client (a CIDR deny missed, a fresh rate-limit counter per port) cannot
 * exist.
 */
export function clientAddress(value: unknown): string | undefined {
  const plain = parseIpAddress(value);
  if (plain) return plain.address;
  if (typeof value !== 'string' || value.length > MAX_ADDRESS_LENGTH + 8) return undefined;
  const inner = WITH_PORT_V4.exec(value)?.[1] ?? WITH_PORT_V6.exec(value)?.[1];
  return parseIpAddress(inner)?.address;
}

// The request's client address, one spelling per client, for every middleware that keys or decides on it.
import type { Request } from 'express';
import { ValidationError } from '../src/errors.js';
import { clientAddress } from '../src/ip.js';

/**
 * `req.ip` as `clientAddress()` reads it. A value that is no address (what a misconfigured or hostile proxy
 * chain can put in `X-Forwarded-For`) is refused with 400: let through, it would miss CIDR denies and count
 * as a client of its own in every limiter.
 */
export function requireClientAddress(req: Request): string {
  const address = clientAddress(req.ip ?? req.socket?.remoteAddress);
  if (address === undefined) {
    throw new ValidationError(
      'The client address is not an IP address; check which proxies are trusted (TRUST_PROXY).',
      {
        code: 'validation.client_address',
      },
    );
  }
  return address;
}

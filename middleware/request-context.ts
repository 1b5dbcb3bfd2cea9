// The first middleware of a Portcullis stack: creates the context and echoes the request id.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigError } from '../src/errors.js';
import type { PiiMasker } from '../src/pii/engine.js';
import { contextOf } from './context.js';

export interface RequestContextOptions {
  /** Header carrying the request id in and out. Default `x-request-id`. */
  header?: string;
  /**
   * The audit masker. A supplied request id it would change (a card number, an e-mail address, a phone
   * number...) is replaced by a fresh UUID: the id is stored unmasked in audit events and logs, where it
   * is the lookup key and sits inside the hash chain, so PII in it could never be redacted later.
   */
  masker?: Pick<PiiMasker, 'maskText'>;
}

export function requestContext(options: RequestContextOptions = {}): RequestHandler {
  const header = (options.header ?? 'x-request-id').toLowerCase();
  if (!/^[a-z0-9-]+$/.test(header)) throw new ConfigError('header', 'must be a valid HTTP header name');
  const masker = options.masker;
  if (masker !== undefined && typeof masker?.maskText !== 'function') {
    throw new ConfigError('masker', 'must be a masker (createMasker() or maskerFromConfig())');
  }
  const accept = masker ? (id: string) => masker.maskText(id) === id : undefined;
  return function portcullisRequestContext(req: Request, res: Response, next: NextFunction) {
    const context = contextOf(req, header, accept);
    res.setHeader(header, context.requestId);
    next();
  };
}

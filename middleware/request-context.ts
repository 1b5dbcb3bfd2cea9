// The first middleware of a Portcullis stack: creates the context and echoes the request id.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigError } from '../src/errors.js';
import { contextOf } from './context.js';

export interface RequestContextOptions {
  /** Header carrying the request id in and out. Default `x-request-id`. */
  header?: string;
}

export function requestContext(options: RequestContextOptions = {}): RequestHandler {
  const header = (options.header ?? 'x-request-id').toLowerCase();
  if (!/^[a-z0-9-]+$/.test(header)) throw new ConfigError('header', 'must be a valid HTTP header name');
  return function portcullisRequestContext(req: Request, res: Response, next: NextFunction) {
    const context = contextOf(req, header);
    res.setHeader(header, context.requestId);
    next();
  };
}

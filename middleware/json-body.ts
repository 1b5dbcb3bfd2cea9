// JSON request bodies with a size and a nesting bound: express.json, then one iterative depth check.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ConfigError, ValidationError } from '../src/errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, tooDeepError } from '../src/json-depth.js';
import { illFormedPath } from '../src/well-formed.js';
import { checkOptions, integerOption } from '../src/options.js';

const SIZE = /^\d+(\.\d+)?(b|kb|mb|gb)$/i;
// Bodies already found within a bound, with that bound.
const measured = new WeakMap<object, number>();

export interface JsonBodyOptions {
  /** Largest body (bytes, or `100kb`, `1mb`); larger ones get 413 `payload_too_large`. Default `100kb`. */
  limit?: string | number;
  /**
   * Deepest nesting of arrays and objects (`{}` is one level); deeper bodies get 400 `validation.too_deep`.
   * 1 to 64 (`MAX_JSON_DEPTH`: audit events and stores refuse anything deeper). Default 64.
   */
  maxDepth?: number;
}

/** A body size limit, or a `ConfigError` naming `option`. Default `100kb`. */
export function checkBodyLimit(value: string | number | undefined, option: string): string | number {
  const limit = value ?? '100kb';
  // body-parser reads `10xb` as 10 bytes and -1 as "refuse everything": accept only what says what it means.
  if (typeof limit === 'number' ? !Number.isSafeInteger(limit) || limit < 1 : !SIZE.test(String(limit))) {
    throw new ConfigError(option, 'must be a positive number of bytes or a size such as 100kb or 1mb');
  }
  return limit;
}

/**
 * `express.json()` with bounds on size and nesting, so no route behind it walks a body deep enough to
 * overflow the stack or stall the event loop. Mount it once, before the routers; a body another parser
 * already read is still checked for depth.
 */
export function jsonBody(options: JsonBodyOptions = {}): RequestHandler {
  checkOptions('jsonBody()', options, ['limit', 'maxDepth']);
  const maxDepth = integerOption('maxDepth', options.maxDepth, {
    fallback: MAX_JSON_DEPTH,
    min: 1,
    max: MAX_JSON_DEPTH,
  });
  const parse = express.json({ limit: checkBodyLimit(options.limit, 'limit') });
  return function portcullisJsonBody(req: Request, res: Response, next: NextFunction) {
    parse(req, res, (error?: unknown) => {
      if (error) return next(error);
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null) return next();
      // An app-level jsonBody already measured it (the CRUD router parses again): once is enough.
      const passed = measured.get(body);
      if (passed !== undefined && passed <= maxDepth) return next();
      if (nestsDeeperThan(body, maxDepth)) return next(tooDeepError(maxDepth, 'request body'));
      const illFormed = illFormedPath(body);
      if (illFormed !== undefined) {
        const message = 'holds a lone UTF-16 surrogate (not valid Unicode text)';
        return next(
          new ValidationError(`The request body ${message}.`, {
            code: 'validation.invalid_unicode',
            errors: [{ field: illFormed, message, code: 'validation.invalid_unicode' }],
          }),
        );
      }
      measured.set(body, maxDepth);
      next();
    });
  };
}

/**
 * The parsed body as a plain object, or a 400 `validation.body`; with `allowed`, a key outside it is a 400
 * naming every such key (and what is accepted).
 */
export function objectBody(body: unknown, allowed?: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('The request body must be a JSON object.', { code: 'validation.body' });
  }
  const unknown = allowed ? Object.keys(body).filter((key) => !allowed.includes(key)) : [];
  if (unknown.length > 0) {
    throw new ValidationError('Unknown fields.', {
      code: 'validation.body',
      errors: unknown.map((field) => ({ field, message: `is not accepted here (accepted: ${allowed!.join(', ')})` })),
    });
  }
  return body as Record<string, unknown>;
}

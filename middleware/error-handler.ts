// Renders every error as RFC 9457 problem+json; client errors say what is wrong, server errors say nothing.
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  NotFoundError,
  PayloadTooLargeError,
  PortcullisError,
  UnsupportedMediaTypeError,
  ValidationError,
  type FieldProblem,
} from '../src/errors.js';
import { errorForLog, silentLogger, type Logger } from '../src/logger.js';
import { contextOf } from './context.js';

export interface ErrorHandlerOptions {
  /** Where 5xx errors (with their request id and cause) are logged. Default: nowhere. */
  logger?: Logger;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  requestId: string;
  errors?: FieldProblem[];
  /** How many problems past the first MAX_ERRORS were left out. */
  errorsOmitted?: number;
}

/** The most problems one answer lists: a full batch of records, each with several, fits. */
const MAX_ERRORS = 1000;
// Problems echo input (an id, a field name): its control, format and direction characters are shown as
// escapes, since raw ones hide text or turn the rest of a line around where the answer is displayed
// (`acc_1\u202egnp.exe` reads as `acc_1exe.png`).
const INVISIBLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;
const visible = (text: string): string =>
  text.replace(INVISIBLE, (char) => `\\u{${char.codePointAt(0)!.toString(16)}}`);

function visibleProblem<T extends { field?: unknown; message?: unknown }>(problem: T): T {
  const field = typeof problem.field === 'string' ? visible(problem.field) : problem.field;
  const message = typeof problem.message === 'string' ? visible(problem.message) : problem.message;
  return field === problem.field && message === problem.message ? problem : { ...problem, field, message };
}

/** The longest `detail`, in characters. */
const MAX_DETAIL = 2000;

/** Answers every unmatched route with a 404 problem. Mount after all routes. */
export function notFoundHandler(): RequestHandler {
  return function portcullisNotFound(req: Request, _res: Response, next: NextFunction) {
    next(new NotFoundError(`No route for ${req.method} ${req.path}.`, { code: 'not_found.route' }));
  };
}

/** The one place that writes error responses. Mount last. */
export function errorHandler(options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  const logger = options.logger ?? silentLogger;
  return function portcullisErrorHandler(error: unknown, req: Request, res: Response, next: NextFunction) {
    if (res.headersSent) {
      next(error);
      return;
    }
    const context = contextOf(req);
    const problem = toPortcullisError(error);
    if (problem.status >= 500) {
      logger.error(
        { requestId: context.requestId, method: req.method, path: req.path, err: errorForLog(error) },
        'request failed',
      );
    }
    // Bounded whatever the error: an answer naming each of thousands of bad keys would be far larger than the
    // request that sent them.
    const errors = problem.errors;
    const detail = problem.message.length > MAX_DETAIL ? `${problem.message.slice(0, MAX_DETAIL)}…` : problem.message;
    const body: ProblemDetails = {
      type: problem.type,
      title: problem.title,
      status: problem.status,
      detail: visible(detail),
      code: problem.code,
      requestId: context.requestId,
      ...(errors
        ? { errors: (errors.length > MAX_ERRORS ? errors.slice(0, MAX_ERRORS) : errors).map(visibleProblem) }
        : {}),
      ...(errors && errors.length > MAX_ERRORS ? { errorsOmitted: errors.length - MAX_ERRORS } : {}),
    };
    for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(body));
  };
}

class InternalError extends PortcullisError {
  constructor(cause: unknown) {
    super(500, 'Internal Server Error', 'internal', 'Something went wrong on our side; the request id identifies it.', {
      cause,
    });
  }
}

/** Known client errors from Express's body parsers, recognised by their `type`, never by message text. */
const bodyParserErrors: Record<string, () => PortcullisError> = {
  'entity.parse.failed': () => new ValidationError('The request body is not valid JSON.', { code: 'validation.json' }),
  'entity.too.large': () => new PayloadTooLargeError(),
  'entity.verify.failed': () => new ValidationError('The request body failed verification.'),
  'request.aborted': () => new ValidationError('The request was aborted.', { code: 'validation.aborted' }),
  'request.size.invalid': () => new ValidationError('The request size did not match Content-Length.'),
  'stream.encoding.set': () => new ValidationError('The request stream encoding is invalid.'),
  'parameters.too.many': () => new PayloadTooLargeError('Too many parameters.'),
  'charset.unsupported': () => new UnsupportedMediaTypeError('Unsupported charset.'),
  'encoding.unsupported': () => new UnsupportedMediaTypeError('Unsupported content encoding.'),
};

function toPortcullisError(error: unknown): PortcullisError {
  if (error instanceof PortcullisError) return error;
  if (typeof error === 'object' && error !== null) {
    const type = (error as { type?: unknown }).type;
    if (typeof type === 'string' && Object.hasOwn(bodyParserErrors, type)) return bodyParserErrors[type]!();
    // URIError from decodeURIComponent in Express's router on malformed percent-encoding.
    if (error instanceof URIError) return new ValidationError('The URL is not correctly percent-encoded.');
    const status = (error as { status?: unknown; expose?: unknown }).status;
    if (
      (error as { expose?: unknown }).expose === true &&
      typeof status === 'number' &&
      status >= 400 &&
      status < 500
    ) {
      return new GenericClientError(status);
    }
  }
  return new InternalError(error);
}

class GenericClientError extends PortcullisError {
  constructor(status: number) {
    super(status, 'Bad Request', 'client_error', 'The request could not be processed.');
  }
}

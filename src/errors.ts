// Typed errors: every client-visible failure is one of these, rendered as RFC 9457 problem+json.

/** One field-level problem inside a validation error. `field` is a dotted path or a variable name. */
export interface FieldProblem {
  field: string;
  message: string;
  code?: string;
  /** In a batch, the position (from 0) of the record the problem is about. */
  index?: number;
}

export interface PortcullisErrorOptions {
  /** Extra machine-readable code, e.g. `filter.unknown_field`. */
  code?: string;
  /** The underlying error; logged, never sent to clients. */
  cause?: unknown;
  /** Field problems (validation errors). */
  errors?: FieldProblem[];
  /** Extra headers the error handler sets, e.g. `WWW-Authenticate` or `Retry-After`. */
  headers?: Record<string, string>;
}

/** Base class: `status`, `code`, a stable `type` URI and a short `title`; `detail` is the message. */
export class PortcullisError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly errors: FieldProblem[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    title: string,
    defaultCode: string,
    detail: string,
    options: PortcullisErrorOptions = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.title = title;
    this.code = options.code ?? defaultCode;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }

  /** The problem type URI; relative so it resolves against the documentation of the deployment. */
  get type(): string {
    return `https://portcullis.dev/problems/${this.code.split('.')[0]}`;
  }
}

export class ValidationError extends PortcullisError {
  constructor(detail: string, options: PortcullisErrorOptions = {}) {
    super(400, 'Bad Request', 'validation', detail, options);
  }
}

export class AuthenticationError extends PortcullisError {
  /**
   * @param challenge the `WWW-Authenticate` value, e.g. `Bearer realm="api", error="invalid_token"`.
   */
  constructor(detail = 'Authentication required.', options: PortcullisErrorOptions & { challenge?: string } = {}) {
    const headers = { ...options.headers };
    headers['WWW-Authenticate'] = options.challenge ?? 'Bearer realm="portcullis"';
    super(401, 'Unauthorized', 'authentication', detail, { ...options, headers });
  }
}

export class ForbiddenError extends PortcullisError {
  constructor(detail = 'You are not allowed to do this.', options: PortcullisErrorOptions = {}) {
    super(403, 'Forbidden', 'forbidden', detail, options);
  }
}

export class NotFoundError extends PortcullisError {
  constructor(detail = 'Not found.', options: PortcullisErrorOptions = {}) {
    super(404, 'Not Found', 'not_found', detail, options);
  }
}

export class ConflictError extends PortcullisError {
  constructor(detail: string, options: PortcullisErrorOptions = {}) {
    super(409, 'Conflict', 'conflict', detail, options);
  }
}

export class PreconditionFailedError extends PortcullisError {
  constructor(detail = 'The resource has changed since you read it.', options: PortcullisErrorOptions = {}) {
    super(412, 'Precondition Failed', 'precondition_failed', detail, options);
  }
}

export class PayloadTooLargeError extends PortcullisError {
  constructor(detail = 'The request body is too large.', options: PortcullisErrorOptions = {}) {
    super(413, 'Content Too Large', 'payload_too_large', detail, options);
  }
}

/** A body of a media type (or charset, or encoding) the route does not take. */
export class UnsupportedMediaTypeError extends PortcullisError {
  constructor(detail: string, options: PortcullisErrorOptions = {}) {
    super(415, 'Unsupported Media Type', 'unsupported_media_type', detail, options);
  }
}

export class RateLimitedError extends PortcullisError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, detail = 'Too many requests.', options: PortcullisErrorOptions = {}) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, 'Too Many Requests', 'rate_limited', detail, {
      ...options,
      headers: { ...options.headers, 'Retry-After': String(seconds) },
    });
    this.retryAfterSeconds = seconds;
  }
}

/** A backing store (MongoDB, Redis) cannot be reached or timed out; the request gets 503. */
export class StoreUnavailableError extends PortcullisError {
  readonly backend: string;
  constructor(backend: string, options: PortcullisErrorOptions = {}) {
    super(503, 'Service Unavailable', 'store_unavailable', `The ${backend} store is unavailable; try again shortly.`, {
      ...options,
      headers: { 'Retry-After': '5', ...options.headers },
    });
    this.backend = backend;
  }
}

/** Misconfiguration found at creation time; never rendered to clients. */
export class ConfigError extends Error {
  readonly code: string;
  readonly option: string;
  readonly hint: string | undefined;
  constructor(option: string, message: string, options: { code?: string; hint?: string; cause?: unknown } = {}) {
    const hint = options.hint ? ` (${options.hint})` : '';
    super(`${option}: ${message}${hint}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConfigError';
    this.option = option;
    this.code = options.code ?? 'config.invalid';
    this.hint = options.hint;
  }
}

/** Several configuration problems at once, one line each. */
export class ConfigErrors extends Error {
  readonly problems: ConfigError[];
  constructor(problems: ConfigError[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
    this.name = 'ConfigErrors';
    this.problems = problems;
  }
}

export function isPortcullisError(value: unknown): value is PortcullisError {
  return value instanceof PortcullisError;
}

/** A "did you mean" hint for an unknown name, by edit distance. */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(input.length / 3))
    ? `did you mean ${best}?`
    : undefined;
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

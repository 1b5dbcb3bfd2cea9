// Error answers in OpenAPI: the one problem+json schema (RFC 9457 as the error handler writes it) and responses.
import type { JsonSchema, OpenApiResponse } from './types.js';

export const PROBLEM_SCHEMA_NAME = 'Problem';
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** What `errorHandler()` writes for every error. */
export const problemSchema: JsonSchema = {
  type: 'object',
  description: 'An RFC 9457 problem: `code` says what went wrong, `errors` names each field at fault.',
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    code: { type: 'string', examples: ['filter.unknown_field'] },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } },
        required: ['field', 'message'],
      },
      maxItems: 1000,
    },
    errorsOmitted: {
      type: 'integer',
      minimum: 1,
      description: 'How many problems past the first 1 000 were left out.',
    },
  },
  required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
};

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'No valid credential',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict with a concurrent change',
  412: 'The record changed since the If-Match version',
  413: 'Body too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  503: 'A store is unavailable; try again',
};

const RETRY_AFTER = { description: 'Seconds to wait.', schema: { type: 'integer', minimum: 1 } };

/** Codes by status, merged; a route lists what it answers itself and what its guards answer. */
export type ProblemCodes = Partial<Record<number, readonly string[]>>;

export function mergeCodes(...sets: ProblemCodes[]): ProblemCodes {
  const merged: Record<number, string[]> = {};
  for (const set of sets) {
    for (const [status, codes] of Object.entries(set)) {
      const list = (merged[Number(status)] ??= []);
      for (const code of codes ?? []) if (!list.includes(code)) list.push(code);
    }
  }
  return merged;
}

/** One problem+json response per status, each naming its codes (`x-problem-codes` and the description). */
export function problemResponses(codes: ProblemCodes): Record<string, OpenApiResponse> {
  const responses: Record<string, OpenApiResponse> = {};
  for (const [status, list] of Object.entries(codes).sort(([a], [b]) => Number(a) - Number(b))) {
    if (!list || list.length === 0) continue;
    const code = Number(status);
    responses[status] = {
      description: `${TITLES[code] ?? 'Error'}: ${list.map((name) => `\`${name}\``).join(', ')}.`,
      ...(code === 429 || code === 503 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
      content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: `#/components/schemas/${PROBLEM_SCHEMA_NAME}` } } },
      'x-problem-codes': [...list],
    };
  }
  return responses;
}

/** A store behind the route may be down. */
export const STORE_CODES: ProblemCodes = { 503: ['store_unavailable'] };

/** A JSON body the shared `jsonBody()` parser refused. */
export const BODY_CODES: ProblemCodes = {
  400: ['validation.json', 'validation.too_deep'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
};

/** What `authenticate()` (and its failure limit) answers before any route. */
export const AUTHENTICATION_CODES: ProblemCodes = {
  401: ['authentication.required', 'authentication.invalid_credentials'],
  429: ['rate_limited.failures'],
};

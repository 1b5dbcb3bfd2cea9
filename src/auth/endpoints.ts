// Compiles permitted endpoints (method list + fully anchored path pattern, linear-time) once, and vets them on write.
import { LRUCache } from 'lru-cache';
import { compileRegex, PatternError, type LinearRegex } from '../regex.js';
import type { PermittedEndpoint } from './principal.js';

export interface CompiledEndpoint {
  methods: ReadonlySet<string> | '*';
  pattern: LinearRegex;
}

// Patterns come from stored grants, so the set is small and stable; the cap only bounds a misbehaving store.
const cache = new LRUCache<string, CompiledEndpoint>({ max: 10_000 });

export const MAX_ENDPOINT_PATTERN_LENGTH = 512;

const NOTHING = compileRegex('[]');

const METHOD = /^[A-Z]+$/;

/** The compiled form of an endpoint, cached by its text. Throws on a pattern `validateEndpoint` rejects. */
export function compileEndpoint(endpoint: PermittedEndpoint): CompiledEndpoint {
  const key = `${endpoint.method}\u0000${endpoint.path}`;
  let compiled = cache.get(key);
  if (!compiled) {
    const problem = validateEndpoint(endpoint);
    // An invalid stored pattern matches nothing rather than failing every request of the principal.
    compiled = problem
      ? { methods: new Set(), pattern: NOTHING }
      : { methods: parseMethods(endpoint.method), pattern: anchored(endpoint.path) };
    cache.set(key, compiled);
  }
  return compiled;
}

function parseMethods(method: string): ReadonlySet<string> | '*' {
  if (method.trim() === '*') return '*';
  return new Set(method.split('|').map((m) => m.trim().toUpperCase()));
}

/**
 * Why an endpoint is unusable, or `undefined` when it is fine. Rejects unknown method shapes, overly long
 * paths and patterns the linear-time engine refuses (invalid ones, backreferences, lookaround).
 */
export function validateEndpoint(endpoint: PermittedEndpoint): string | undefined {
  if (typeof endpoint?.method !== 'string' || typeof endpoint.path !== 'string') {
    return 'method and path must be strings';
  }
  const method = endpoint.method.trim();
  if (method !== '*' && !method.split('|').every((m) => METHOD.test(m.trim().toUpperCase()))) {
    return 'method must be `*` or HTTP methods separated by `|`';
  }
  if (endpoint.path.length === 0 || endpoint.path.length > MAX_ENDPOINT_PATTERN_LENGTH) {
    return `path must be 1-${MAX_ENDPOINT_PATTERN_LENGTH} characters`;
  }
  try {
    // The bare path first, so that `a)|(b` cannot escape the anchoring group.
    compileRegex(endpoint.path);
    anchored(endpoint.path);
  } catch (error) {
    if (error instanceof PatternError) return `path: ${error.message}`;
    throw error;
  }
  return undefined;
}

function anchored(path: string): LinearRegex {
  return compileRegex(`^(?:${path})$`);
}

// Compiles permitted endpoints (method list + fully anchored path regex) once, and vets patterns on write.
import type { PermittedEndpoint } from './principal.js';

export interface CompiledEndpoint {
  methods: ReadonlySet<string> | '*';
  pattern: RegExp;
}

// Patterns come from stored grants, so the set is small and stable; the cap only bounds a misbehaving store.
const cache = new Map<string, CompiledEndpoint>();
const CACHE_LIMIT = 10_000;

export const MAX_ENDPOINT_PATTERN_LENGTH = 512;

const METHOD = /^[A-Z]+$/;

/** The compiled form of an endpoint, cached by its text. Throws on a pattern `validateEndpoint` rejects. */
export function compileEndpoint(endpoint: PermittedEndpoint): CompiledEndpoint {
  const key = `${endpoint.method}\u0000${endpoint.path}`;
  let compiled = cache.get(key);
  if (!compiled) {
    const problem = validateEndpoint(endpoint);
    // An invalid stored pattern matches nothing rather than failing every request of the principal.
    compiled = problem
      ? { methods: new Set(), pattern: /(?!)/ }
      : { methods: parseMethods(endpoint.method), pattern: new RegExp(`^(?:${endpoint.path})$`) };
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, compiled);
  }
  return compiled;
}

function parseMethods(method: string): ReadonlySet<string> | '*' {
  if (method.trim() === '*') return '*';
  return new Set(method.split('|').map((m) => m.trim().toUpperCase()));
}

/**
 * Why an endpoint is unusable, or `undefined` when it is fine. Rejects unknown method shapes, patterns
 * that do not compile, overly long ones and nested quantifiers such as `(a+)+` (catastrophic backtracking).
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
  if (hasNestedQuantifier(endpoint.path)) return 'path has a nested quantifier (catastrophic backtracking)';
  if (/\\[1-9]|\\k</.test(endpoint.path)) return 'path may not use back-references';
  try {
    new RegExp(endpoint.path);
  } catch {
    return 'path is not a valid regular expression';
  }
  return undefined;
}

// A group that contains a quantifier and is itself quantified: `(a+)+`, `(a*b?)*`, `(x{2,})+`.
function hasNestedQuantifier(pattern: string): boolean {
  const stack: boolean[] = [];
  let escaped = false;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (escaped) {
      escaped = false;
      continue;
    }
    if (char === '\\') {
      escaped = true;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      continue;
    }
    if (char === '[') inClass = true;
    else if (char === '(') stack.push(false);
    else if (char === ')') {
      const innerQuantified = stack.pop() ?? false;
      const next = pattern[i + 1];
      const quantified = next === '*' || next === '+' || next === '{' || next === '?';
      if (innerQuantified && quantified && next !== '?') return true;
      if (innerQuantified && stack.length > 0) stack[stack.length - 1] = true;
    } else if ((char === '*' || char === '+' || char === '{') && stack.length > 0) {
      stack[stack.length - 1] = true;
    }
  }
  return false;
}

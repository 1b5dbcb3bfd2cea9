// The options pipeline every factory starts with: an object of known keys, then each value checked once.
import { ConfigError, didYouMean } from './errors.js';

/**
 * The first step of a factory: `options` must be an object (absent counts as `{}`); keys whose value is
 * `undefined` are dropped, as if absent; every other key must be in `known`, so a typo never silently means
 * "the default": an unknown key is a `config.unknown` ConfigError naming it (under `path`, when given) with
 * the closest known name. Returns the options without the undefined keys.
 */
export function checkOptions<T extends object>(
  factory: string,
  options: T | undefined,
  known: readonly string[],
  { path }: { path?: string } = {},
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(path ?? 'options', 'must be an object');
  }
  const defined: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!known.includes(key)) {
      const article = /^[aeiou]/i.test(factory) ? 'an' : 'a';
      throw new ConfigError(path ? `${path}.${key}` : key, `is not ${article} ${factory} option`, {
        code: 'config.unknown',
        hint: didYouMean(key, known),
      });
    }
    defined[key] = value;
  }
  return defined as T;
}

/**
 * An integer option from `min` to `max` (inclusive), `fallback` when absent; anything else is a ConfigError
 * naming the option and the range.
 */
export function integerOption(
  name: string,
  value: unknown,
  { fallback, min = 0, max = Number.MAX_SAFE_INTEGER }: { fallback: number; min?: number; max?: number },
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(
      name,
      max === Number.MAX_SAFE_INTEGER ? `must be an integer ≥ ${min}` : `must be an integer from ${min} to ${max}`,
    );
  }
  return value;
}

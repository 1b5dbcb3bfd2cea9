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

export interface NumberRange {
  /** The value when the option is absent; without one, the option is required. */
  fallback?: number;
  /** Inclusive bounds. Default 0 and Number.MAX_SAFE_INTEGER. */
  min?: number;
  max?: number;
  /** The ConfigError's code. Default `config.invalid`. */
  code?: string;
}

/**
 * An integer option from `min` to `max` (inclusive), `fallback` when absent; anything else (or an absent
 * option without a fallback) is a ConfigError naming the option and the range.
 */
export function integerOption(name: string, value: unknown, range: NumberRange): number {
  return checkNumber(name, value, range, 'an integer');
}

/** As `integerOption`, for a finite number that need not be whole (e.g. seconds of clock tolerance). */
export function numberOption(name: string, value: unknown, range: NumberRange): number {
  return checkNumber(name, value, range, 'a number');
}

function checkNumber(
  name: string,
  value: unknown,
  { fallback, min = 0, max = Number.MAX_SAFE_INTEGER, code }: NumberRange,
  kind: 'an integer' | 'a number',
): number {
  const expected = max === Number.MAX_SAFE_INTEGER ? `${kind} ≥ ${min}` : `${kind} from ${min} to ${max}`;
  if (value === undefined) {
    if (fallback === undefined)
      throw new ConfigError(name, `is required: ${expected}`, { code: code ?? 'config.missing' });
    return fallback;
  }
  const whole = kind === 'an integer' ? Number.isSafeInteger(value) : Number.isFinite(value);
  if (typeof value !== 'number' || !whole || value < min || value > max) {
    throw new ConfigError(name, `must be ${expected}`, code ? { code } : {});
  }
  return value;
}

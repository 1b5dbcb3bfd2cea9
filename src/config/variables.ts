// Typed environment-variable specifications: each knows its name, type, default, secrecy and purpose.

export type VariableType = 'string' | 'integer' | 'boolean' | 'url' | 'enum' | 'list' | 'duration';

export interface VariableSpec<T> {
  type: VariableType;
  /** One sentence for the README table. */
  description: string;
  /** The value when the variable is unset or empty; `undefined` means "not set" is allowed. */
  default?: T;
  /** Secrets never appear in logs, errors or `describeConfig()`. */
  secret?: boolean;
  /** Set when the variable must be present. */
  required?: boolean;
  /** Human-readable form of the accepted values, for docs and errors. */
  accepts: string;
  /** Parses a non-empty raw value; throws `Error` with a message that never echoes a secret. */
  parse(raw: string): T;
}

type Common<T> = { description: string; default?: T; secret?: boolean; required?: boolean };

// The builders' results are checked as VariableSpec; this only adds the remembered default to the type.
function finish<R>(spec: VariableSpec<never> | VariableSpec<unknown>): R {
  return spec as R;
}

/** A spec that remembers, in its type, whether a default was given (then the value is never undefined). */
export type Spec<T, O> = VariableSpec<T> & (O extends { default: T } ? { default: T } : unknown);

export function stringVar<
  const O extends Common<string> & { pattern?: RegExp; minLength?: number; maxLength?: number },
>(options: O): Spec<string, O> {
  const minLength = options.minLength ?? 0;
  const maxLength = options.maxLength ?? 4096;
  const text = minLength > 0 ? `text of at least ${minLength} characters` : 'text';
  return finish({
    ...options,
    type: 'string',
    accepts: options.pattern ? `${text} matching ${options.pattern.source}` : text,
    parse(raw) {
      if (raw.length > maxLength) throw new Error(`must be at most ${maxLength} characters`);
      if (raw.length < minLength) throw new Error(`must be at least ${minLength} characters`);
      if (options.pattern && !options.pattern.test(raw)) {
        throw new Error(options.secret ? 'has an invalid format' : `must match ${options.pattern.source}`);
      }
      return raw;
    },
  });
}

export function integerVar<const O extends Common<number> & { min?: number; max?: number }>(
  options: O,
): Spec<number, O> {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return finish({
    ...options,
    type: 'integer',
    accepts: `integer ${min}..${max}`,
    parse(raw) {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got "${raw}"`);
      const value = Number(raw.trim());
      if (value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${value}`);
      return value;
    },
  });
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days): a longer one is set to 1 ms with only a
 * warning, so a variable that feeds a timer would fire at once, and again every millisecond for an interval.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** A bound in the largest unit that writes it exactly: `30d`, `10m`, `1500ms`. */
function durationText(ms: number): string {
  const [unit, size] = Object.entries(DURATION_UNITS)
    .reverse()
    .find(([, size]) => ms % size === 0) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}

/**
 * Durations in milliseconds, written `500ms`, `30s`, `15m`, `12h`, `7d` or a bare number of milliseconds,
 * between `min` (default 0) and `max` (default the largest exact integer: beyond it the value overflows).
 */
export function durationVar<const O extends Common<number> & { min?: number; max?: number }>(
  options: O,
): Spec<number, O> {
  const min = options.min ?? 0;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return finish({
    ...options,
    type: 'duration',
    accepts: 'duration: 500ms, 30s, 15m, 12h, 7d or milliseconds',
    parse(raw) {
      const text = raw.trim();
      const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text);
      if (!match) throw new Error(`must be a duration like 30s, 15m or 12h, got "${raw}"`);
      const value = Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!;
      if (!(value <= max)) throw new Error(`must be at most ${durationText(max)}, got ${text}`);
      if (value < min) throw new Error(`must be at least ${durationText(min)}, got ${text}`);
      return value;
    },
  });
}

export function booleanVar<const O extends Common<boolean>>(options: O): Spec<boolean, O> {
  return finish({
    ...options,
    type: 'boolean',
    accepts: 'true or false',
    parse(raw) {
      // Only the two documented spellings: `yes`, `1` or `on` read by one tool and not by another is how a
      // switch ends up on in one process and off in the next.
      const value = raw.trim();
      if (value === 'true') return true;
      if (value === 'false') return false;
      throw new Error(`must be true or false, got "${raw}"`);
    },
  });
}

export function enumVar<
  const V extends string,
  const O extends Common<V> & { values: readonly V[] } = Common<V> & { values: readonly V[] },
>(options: O & { values: readonly V[] }): Spec<V, O> {
  return finish({
    ...options,
    type: 'enum',
    accepts: options.values.join(' | '),
    parse(raw) {
      const value = raw.trim();
      if (!(options.values as readonly string[]).includes(value)) {
        throw new Error(`must be one of ${options.values.join(', ')}, got "${value}"`);
      }
      return value as V;
    },
  });
}

/** Comma-separated list; items are trimmed and empty items dropped; `item` throws for a bad one (all reported). */
export function listVar<const O extends Common<string[]> & { item?: (item: string) => void }>(
  options: O,
): Spec<string[], O> {
  return finish({
    ...options,
    type: 'list',
    accepts: 'comma-separated list',
    parse(raw) {
      const items = raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
      const problems: string[] = [];
      for (const item of items) {
        try {
          options.item?.(item);
        } catch (error) {
          problems.push((error as Error).message);
        }
      }
      if (problems.length > 0) throw new Error(problems.join('; '));
      return items;
    },
  });
}

/** A URL with one of the given protocols. The message never echoes the value: URLs often carry passwords. */
export function urlVar<const O extends Common<string> & { protocols: readonly string[] }>(options: O): Spec<string, O> {
  return finish({
    ...options,
    type: 'url',
    accepts: `URL (${options.protocols.map((p) => `${p}//`).join(', ')})`,
    parse(raw) {
      let url: URL;
      try {
        url = new URL(raw.trim());
      } catch {
        throw new Error('is not a valid URL');
      }
      if (!options.protocols.includes(url.protocol)) {
        throw new Error(`must use ${options.protocols.join(' or ')}, got ${url.protocol}`);
      }
      return raw.trim();
    },
  });
}

export type ValueOf<S> = S extends VariableSpec<infer T> ? T : never;
export type VariableSet = Record<string, VariableSpec<unknown>>;

/** Keeps the literal keys and spec types of a group of variables. */
export function defineVariables<const S extends VariableSet>(variables: S): S {
  return variables;
}

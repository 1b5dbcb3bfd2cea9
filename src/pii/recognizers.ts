// Labelled recognizers that find PII in free text: the built-in ones and the compiler for custom ones.
import { isIPv6 } from 'node:net';
import { ConfigError } from '../errors.js';
import { compileRegex, PatternError, RegexBudgetError, type LinearRegex } from '../regex.js';
import { cardValid, ibanValid, ssnValid } from './validators.js';

/** The labels of the built-in recognizers. */
export const builtinLabels = ['jwt', 'secret', 'iban', 'card', 'ssn', 'email', 'ipv6', 'ipv4', 'phone'] as const;
export type BuiltinLabel = (typeof builtinLabels)[number];

/** A custom recognizer: a label, a pattern and an optional validator of each match. */
export interface RecognizerSpec {
  label: string;
  /**
   * Compiled at creation for the linear-time engine (no backreferences or lookaround); flags other than `i`,
   * `u`, `m`, `s` are dropped.
   */
  pattern: RegExp | string;
  /** Return false to reject a match (e.g. a checksum). */
  validate?: (match: string) => boolean;
}

/** A recognizer ready to scan, compiled once. Earlier recognizers win overlaps. */
export interface Recognizer {
  label: string;
  /** A built-in's global regex (written to scan in linear time), or a custom pattern on the linear-time engine. */
  regex: RegExp | LinearRegex;
  validate: ((match: string) => boolean) | undefined;
  /**
   * A cheap necessary condition: when it returns false the regex cannot match, so it is not run. Most
   * strings in a record (names, statuses, dates, ids) fail it for every recognizer; the text's digit
   * counts are taken once, in one pass, for all of them.
   */
  mayMatch?: (text: string, digits: DigitCounts) => boolean;
  /** No match is shorter: a shorter text is not scanned at all. Default 1. */
  minLength?: number;
}

// Every built-in pattern starts with a look-behind that excludes its own first character class, so a run
// of candidate characters is entered once rather than at each position, and every repetition is bounded
// or stops at a delimiter: scanning stays linear in the input however hostile it is.
const builtins: Record<BuiltinLabel, Required<Omit<Recognizer, 'label' | 'validate'>> & Pick<Recognizer, 'validate'>> =
  {
    jwt: {
      regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,8192}\.eyJ[A-Za-z0-9_-]{2,65536}\.[A-Za-z0-9_-]{0,8192}/g,
      validate: undefined,
      mayMatch: (text) => text.includes('eyJ'),
      minLength: 12,
    },
    secret: {
      regex: new RegExp(
        [
          '(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])',
          '(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])',
          '(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}',
          '(?<![A-Za-z0-9_-])xox[abprs]-[A-Za-z0-9-]{10,250}',
          '(?<![A-Za-z0-9_])[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9])',
          '(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])',
          '-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----',
        ].join('|'),
        'g',
      ),
      validate: undefined,
      // Every alternative holds one of these; the shortest (`xoxb-` and ten more) is 15 characters.
      mayMatch: (text, counts) =>
        text.includes('_') ||
        text.includes('xox') ||
        // AKIA, ASIA, AIza and BEGIN each hold two capitals in a row.
        (counts.upperRun >= 2 &&
          (text.includes('AKIA') || text.includes('ASIA') || text.includes('AIza') || text.includes('-----BEGIN'))),
      minLength: 15,
    },
    iban: {
      regex: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g,
      validate: ibanValid,
      // A two-capital country code, then two check digits; the rest may be letters.
      mayMatch: (_text, counts) => counts.total >= 2 && counts.upperRun >= 2,
      minLength: 12,
    },
    card: {
      // Not inside a longer run of digits (a digit, or a digit and a separator, before it); a letter and a
      // dash before it (`ref-4111…`) does not protect the number. Dots separate only the printed groups
      // (4-4-4-4, Amex 4-6-5), so a long decimal number is never taken for a card.
      regex: /(?<!\d)(?<!\d[ .-])(?:\d(?:[ -]?\d){12,18}(?!\d)|(?:\d{4}(?:\.\d{4}){3}|\d{4}\.\d{6}\.\d{5})(?!\.?\d))/g,
      validate: cardValid,
      // Thirteen digits or more with single spaces or dashes between them, or fifteen with dots.
      mayMatch: (text, digits) => digits.inDashedRun >= 13 || (digits.inPhoneRun >= 15 && text.includes('.')),
      minLength: 13,
    },
    ssn: {
      regex: /(?<!\d)(?<!\d[ -])\d{3}([- ])\d{2}\1\d{4}(?!\d|-\d)/g,
      validate: ssnValid,
      mayMatch: (_text, digits) => digits.inDashedRun >= 9,
      minLength: 11,
    },
    email: {
      regex:
        /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
      validate: undefined,
      mayMatch: (text) => text.includes('@'),
      // a@b.cd
      minLength: 6,
    },
    ipv6: {
      regex: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g,
      validate: (match) => isIPv6(match) && match !== '::',
      mayMatch: (text) => text.includes(':'),
      // ::1
      minLength: 3,
    },
    ipv4: {
      regex: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)/g,
      validate: undefined,
      mayMatch: (text, digits) => digits.total >= 4 && text.includes('.'),
      minLength: 7,
    },
    phone: {
      regex: new RegExp(
        [
          // International: compact E.164, or groups each introduced by one separator (so a split is never guessed).
          '(?<![\\w+])\\+[1-9](?:\\d{6,14}|\\d{0,2}(?:[ .-]\\(?\\d{1,8}\\)?){2,6})(?![\\w])',
          // North American: (555) 123-4567, 555-123-4567, 555.123.4567.
          '(?<![\\w+(-])\\(?[2-9]\\d{2}\\)?[ .-]\\d{3}[ .-]\\d{4}(?![\\w-])',
        ].join('|'),
        'g',
      ),
      validate: (match) => {
        const digits = match.replace(/\D/g, '').length;
        return digits >= 8 && digits <= 15;
      },
      // The validator wants at least 8 digits in the match, which holds only digits, spaces and . - + ( ).
      mayMatch: (_text, digits) => digits.inPhoneRun >= 8,
      minLength: 8,
    },
  };

/** The built-in recognizer for a label. */
export function builtinRecognizer(label: BuiltinLabel): Recognizer {
  const builtin = builtins[label];
  return {
    label,
    regex: new RegExp(builtin.regex.source, builtin.regex.flags),
    validate: builtin.validate,
    mayMatch: builtin.mayMatch,
    minLength: builtin.minLength,
  };
}

const LABEL = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** Compiles the `recognizers` option: built-in labels (or `'all'`) and custom specs. */
export function compileRecognizers(input: readonly (BuiltinLabel | RecognizerSpec)[] | 'all'): Recognizer[] {
  const items = input === 'all' ? builtinLabels : input;
  const seen = new Set<string>();
  return items.map((item, index) => {
    const option = `recognizers[${index}]`;
    if (typeof item === 'string') {
      if (!(builtinLabels as readonly string[]).includes(item)) {
        throw new ConfigError(option, `"${item}" is not a built-in recognizer (${builtinLabels.join(', ')})`, {
          code: 'pii.unknown_recognizer',
          hint: didYouMeanLabel(item),
        });
      }
      if (seen.has(item)) throw new ConfigError(option, `"${item}" is listed twice`, { code: 'pii.duplicate' });
      seen.add(item);
      return builtinRecognizer(item);
    }
    return compileCustom(item, option);
  });
}

function didYouMeanLabel(input: string): string | undefined {
  const lower = input.toLowerCase();
  const found = builtinLabels.find((label) => label.startsWith(lower.slice(0, 2)));
  return found ? `did you mean "${found}"?` : undefined;
}

function compileCustom(spec: RecognizerSpec, option: string): Recognizer {
  if (typeof spec !== 'object' || spec === null || typeof spec.label !== 'string' || !LABEL.test(spec.label)) {
    throw new ConfigError(`${option}.label`, 'must be a name like "employee-id" (letters, digits, _ . -)', {
      code: 'pii.invalid_recognizer',
    });
  }
  const source = typeof spec.pattern === 'string' ? spec.pattern : spec.pattern?.source;
  if (typeof source !== 'string' || source.length === 0 || source.length > 1000) {
    throw new ConfigError(`${option}.pattern`, 'must be a RegExp or a non-empty pattern of at most 1000 characters', {
      code: 'pii.invalid_recognizer',
    });
  }
  const flags = typeof spec.pattern === 'string' ? '' : spec.pattern.flags.replace(/[^imsu]/g, '');
  let regex: LinearRegex;
  try {
    regex = compileRegex(source, flags, { scan: true });
  } catch (error) {
    if (!(error instanceof PatternError)) throw error;
    const code = error.code === 'regex.unsupported' ? 'pii.unsupported_pattern' : 'pii.invalid_recognizer';
    throw new ConfigError(`${option}.pattern`, `is an ${error.message}`, { code, cause: error });
  }
  if (regex.test('')) {
    throw new ConfigError(`${option}.pattern`, 'matches the empty string', { code: 'pii.invalid_recognizer' });
  }
  if (spec.validate !== undefined && typeof spec.validate !== 'function') {
    throw new ConfigError(`${option}.validate`, 'must be a function', { code: 'pii.invalid_recognizer' });
  }
  return { label: spec.label, regex, validate: spec.validate };
}

/** ASCII digits (what `\d` matches) in a text, the most of them in one run of number-like characters, capitals. */
export interface DigitCounts {
  total: number;
  /** The most digits in one run of digits, spaces and dashes (card numbers, SSNs). */
  inDashedRun: number;
  /** The most digits in one run of digits, spaces and `. - + ( )` (phone numbers). */
  inPhoneRun: number;
  /** The longest run of ASCII capitals (IBAN country codes, key prefixes). */
  upperRun: number;
}

/**
 * One pass over the text: a UUID or a timestamp has digits, but never 8 of them in one such run, nor two
 * capitals in a row.
 */
export function countDigits(text: string): DigitCounts {
  let total = 0;
  let dashed = 0;
  let phone = 0;
  let inDashedRun = 0;
  let inPhoneRun = 0;
  let upper = 0;
  let upperRun = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 65 && code <= 90) {
      if (++upper > upperRun) upperRun = upper;
    } else upper = 0;
    if (code >= 48 && code <= 57) {
      total++;
      if (++dashed > inDashedRun) inDashedRun = dashed;
      if (++phone > inPhoneRun) inPhoneRun = phone;
    } else if (code === 32 || code === 45) {
      // space, -: both runs go on
    } else if (code === 46 || code === 43 || code === 40 || code === 41) {
      // . + ( ): only a phone number's run goes on
      dashed = 0;
    } else {
      dashed = 0;
      phone = 0;
    }
  }
  return { total, inDashedRun, inPhoneRun, upperRun };
}

/** One detection in a text: a label and the half-open range `[begin, end)`. */
export interface Detection {
  label: string;
  begin: number;
  end: number;
}

/**
 * Finds every detection in `text`; overlaps go to the recognizer listed first, then to the earlier match.
 * `skipLabels` are labels the caller may see (not detected).
 */
export function scanText(
  text: string,
  recognizers: readonly Recognizer[],
  skipLabels?: ReadonlySet<string>,
): Detection[] {
  let accepted: Detection[] = [];
  let digits: DigitCounts | undefined;
  for (const recognizer of recognizers) {
    if (skipLabels?.has(recognizer.label)) continue;
    if (recognizer.minLength !== undefined && text.length < recognizer.minLength) continue;
    if (recognizer.mayMatch && !recognizer.mayMatch(text, (digits ??= countDigits(text)))) continue;
    const regex = recognizer.regex;
    let fresh: Detection[] | undefined;
    if (regex instanceof RegExp) {
      regex.lastIndex = 0;
      let match: RegExpExecArray | null;
      while ((match = regex.exec(text)) !== null) {
        const begin = match.index;
        const end = begin + match[0].length;
        if (end === begin) {
          regex.lastIndex++;
          continue;
        }
        if (recognizer.validate && !recognizer.validate(match[0])) continue;
        (fresh ??= []).push({ label: recognizer.label, begin, end });
      }
    } else if (regex.test(text)) {
      // The test above runs on the engine's DFA, much faster than finding where matches are.
      try {
        for (const { begin, end } of regex.matches(text)) {
          if (end === begin) continue;
          if (recognizer.validate && !recognizer.validate(text.slice(begin, end))) continue;
          (fresh ??= []).push({ label: recognizer.label, begin, end });
        }
      } catch (error) {
        if (!(error instanceof RegexBudgetError)) throw error;
        // A text this pattern cannot be scanned through in bounded time is masked whole: failing closed.
        return [{ label: recognizer.label, begin: 0, end: text.length }];
      }
    }
    if (fresh) accepted = accepted.length === 0 ? fresh : mergeDetections(accepted, fresh);
  }
  return accepted;
}

/** Merges two sorted, internally disjoint lists; a fresh range overlapping an accepted one is dropped. Linear. */
function mergeDetections(accepted: Detection[], fresh: Detection[]): Detection[] {
  const merged: Detection[] = [];
  let i = 0;
  for (const candidate of fresh) {
    while (i < accepted.length && accepted[i]!.end <= candidate.begin) merged.push(accepted[i++]!);
    const next = accepted[i];
    const previous = merged[merged.length - 1];
    if (next && next.begin < candidate.end) continue;
    if (previous && previous.end > candidate.begin) continue;
    merged.push(candidate);
  }
  while (i < accepted.length) merged.push(accepted[i++]!);
  return merged;
}

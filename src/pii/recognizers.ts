// Labelled recognizers that find PII in free text: the built-in ones and the compiler for custom ones.
import { isIPv6 } from 'node:net';
import { ConfigError } from '../errors.js';
import { compileRegex, PatternError, RegexBudgetError, type LinearRegex } from '../regex.js';
import { foldText, type FoldedText } from './fold.js';
import { cardPrefix, ibanPrefix, ssnValid } from './validators.js';

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
   * Built-ins whose pattern may run past what they accept: the length of the longest prefix of a match that
   * is a detection (0 for none), in place of `validate`.
   */
  accept?: (match: string) => number;
  /**
   * A cheap necessary condition: when it returns false the regex cannot match, so it is not run. Most
   * strings in a record (names, statuses, dates, ids) fail it for every recognizer; the text's digit
   * counts are taken once, in one pass, for all of them.
   */
  mayMatch?: (text: string, digits: DigitCounts) => boolean;
  /** No match is shorter: a shorter text is not scanned at all. Default 1. */
  minLength?: number;
}

// What an e-mail address is made of, in any script: letters, combining marks and digits (`chloé`, `bücher`,
// `例え`), plus the ASCII punctuation of local parts and the hyphen of domain labels.
const WORD = '\\p{L}\\p{M}\\p{N}';
// The local part also takes RFC 5322's other printable characters (`o'brien`, `first!last`), `/` aside so a
// URL before an address is not taken with it; a domain label also takes `_`, which some mail domains carry.
const LOCAL = `[${WORD}._%+!#$&'*=?^\`{|}~-]`;
const LABEL_CHAR = `[${WORD}_-]`;
/**
 * An e-mail address: the local part is a whole run of local-part characters (the look-behind starts it at
 * the run's start, so a run is entered once, and the run ends where the `@` must be), then up to 42
 * dot-separated domain labels ending in a letter TLD or a punycode one (`xn--p1ai`).
 */
const EMAIL_SOURCE =
  `(?<!${LOCAL})${LOCAL}+@${LABEL_CHAR}{1,63}(?:\\.${LABEL_CHAR}{1,63}){0,40}` +
  `\\.(?:[\\p{L}\\p{M}]{2,24}|[Xx][Nn]--[A-Za-z0-9-]{1,59})(?!${LABEL_CHAR})`;
const EMAIL = new RegExp(EMAIL_SOURCE, 'gu');
const WHOLE_EMAIL = new RegExp(`^(?:${EMAIL_SOURCE})$`, 'u');

/** True when `text` is one e-mail address as the `email` recognizer finds them, and nothing else. */
export function isEmailAddress(text: string): boolean {
  return WHOLE_EMAIL.test(text);
}

// Between two groups of a phone number: a space, or one of . - / with a space on either side or none.
const PHONE_SEP = '(?: ?[./-] ?| )';
const PHONE = new RegExp(
  [
    // International: the country code (maybe glued to the area code, +4930 1234567, or in parentheses), then
    // up to seven groups, each introduced by one separator, or a parenthesised group (the trunk `(0)`, an area
    // code) with or without one. A group starts where a separator ends, so a split is never guessed.
    `(?<![0-9+])\\(?\\+ ?[1-9]\\d{0,14}\\)?(?:${PHONE_SEP}\\d{1,8}|${PHONE_SEP}?\\(\\d{1,6}\\) ?\\d{1,8}){0,7}(?![0-9])`,
    // The same written with the international call prefix `00` for the `+` (0049 30 1234567): at least one
    // group, since a bare run of digits starting with 00 is as likely an account or reference number.
    `(?<![0-9A-Za-z+])\\(?00 ?[1-9]\\d{0,14}\\)?(?:${PHONE_SEP}\\d{1,8}|${PHONE_SEP}?\\(\\d{1,6}\\) ?\\d{1,8}){1,7}(?![0-9])`,
    // North American: (555) 123-4567, (555)123-4567, 555-123-4567, 555.123.4567, 1-555-123-4567.
    '(?<![0-9+(-])(?:1[ .-])?(?:\\([2-9]\\d{2}\\)[ .-]?|\\(?[2-9]\\d{2}[ .-])\\d{3}[ .-]\\d{4}(?![0-9-])',
  ].join('|'),
  'g',
);
// A signed amount or date is no phone number: `+12345678.90`, `+10.000.000`, `+2024-01-15`.
const SIGNED_NUMBER = /^\+ ?(?:\d+\.\d{1,2}|\d{1,3}(?:\.\d{3})+(?:\.\d{1,2})?|\d{4}([./-])\d{2}\1\d{2})$/;

const isDigit = (code: number) => code >= 48 && code <= 57;

/**
 * The phone number at the start of a match: its groups while they hold at most 15 digits (E.164, a `00`
 * call prefix not counted), so that figures written after a number (`+49 30 1234567 2024 12`) do not make
 * the whole match fail; 0 when that is fewer than 8 digits or a signed amount or date.
 */
function phonePrefix(match: string): number {
  // The call prefix `00` stands for the `+`: it is no digit of the number.
  let digits = match.startsWith('00') || match.startsWith('(00') ? -2 : 0;
  let accepted = 0;
  let acceptedDigits = 0;
  for (let index = 0; index < match.length; index++) {
    if (!isDigit(match.charCodeAt(index))) continue;
    if (++digits > 15) break;
    if (!isDigit(match.charCodeAt(index + 1))) {
      // A group ends here; a closing parenthesis right after it belongs to it.
      accepted = match[index + 1] === ')' ? index + 2 : index + 1;
      acceptedDigits = digits;
    }
  }
  if (acceptedDigits < 8) return 0;
  return SIGNED_NUMBER.test(match.slice(0, accepted)) ? 0 : accepted;
}

// Every built-in pattern starts with a look-behind that excludes its own first character class, so a run
// of candidate characters is entered once rather than at each position, and every repetition is bounded
// or stops at a delimiter: scanning stays linear in the input however hostile it is.
type Builtin = Required<Omit<Recognizer, 'label' | 'validate' | 'accept'>> & Pick<Recognizer, 'validate' | 'accept'>;

const builtins: Record<BuiltinLabel, Builtin> = {
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
    // Any case (`de89 3704 …` is the IBAN `DE89 3704 …`), any grouping, spaces, dots or dashes between
    // characters (`DE 89 370 400 …`, `DE89-3704-…`); `ibanPrefix` finds where the country's length ends it
    // (one character more than the longest IBAN is read, to see whether it is glued to more).
    regex: /(?<![A-Za-z0-9])[A-Za-z][ .-]?[A-Za-z][ .-]?\d[ .-]?\d(?:[ .-]?[A-Za-z0-9]){11,31}/g,
    validate: undefined,
    accept: ibanPrefix,
    // A two-letter country code, then two check digits; the rest may be letters.
    // At least the two check digits and half of the shortest account number (Norway's 11).
    mayMatch: (_text, counts) => counts.total >= 8,
    minLength: 12,
  },
  card: {
    // Not inside a run of digits nor after a decimal point, but after a digit and a separator, since one card
    // may follow another (`4111… 5500…`); a letter and a dash before it (`ref-4111…`) does not protect it. Digits may be separated by a space, `-`,
    // `/` or `_`; dots separate only the printed groups (4-4-4-4, Amex 4-6-5), so a long decimal number is
    // never taken for a card. `cardPrefix` keeps the longest valid number of a match, so figures after it
    // (its security code, its expiry) do not make it fail.
    regex: /(?<!\d)(?<!\d\.)(?:\d(?:[ /_-]?\d){12,18}(?!\d)|(?:\d{4}(?:\.\d{4}){3}|\d{4}\.\d{6}\.\d{5})(?!\.?\d))/g,
    validate: undefined,
    accept: cardPrefix,
    // Thirteen digits or more with single spaces, dashes, slashes or underscores between them, or fifteen with dots.
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
    regex: EMAIL,
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
    regex: PHONE,
    validate: undefined,
    accept: phonePrefix,
    // A phone number has at least 8 digits in the match, which holds only digits, spaces and . - / + ( ).
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
    ...(builtin.accept ? { accept: builtin.accept } : {}),
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

/** ASCII digits (what `\d` matches) in a text, the most of them in one run of number-like characters, letters. */
export interface DigitCounts {
  total: number;
  /** The most digits in one run of digits, spaces and dashes (card numbers, SSNs). */
  inDashedRun: number;
  /** The most digits in one run of digits, spaces and `. - / + ( )` (phone numbers). */
  inPhoneRun: number;
  /** The longest run of ASCII capitals (key prefixes). */
  upperRun: number;
  /** The longest run of ASCII letters of either case (IBAN country codes). */
  letterRun: number;
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
  let letters = 0;
  let letterRun = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 65 && code <= 90) {
      if (++upper > upperRun) upperRun = upper;
    } else upper = 0;
    // 0x20 folds capitals onto small letters.
    const folded = code | 0x20;
    if (folded >= 97 && folded <= 122) {
      if (++letters > letterRun) letterRun = letters;
    } else letters = 0;
    if (code >= 48 && code <= 57) {
      total++;
      if (++dashed > inDashedRun) inDashedRun = dashed;
      if (++phone > inPhoneRun) inPhoneRun = phone;
    } else if (code === 32 || code === 45 || code === 47 || code === 95) {
      // space - / _: both runs go on
    } else if (code === 46 || code === 43 || code === 40 || code === 41) {
      // . + ( ): only a phone number's run goes on
      dashed = 0;
    } else {
      dashed = 0;
      phone = 0;
    }
  }
  return { total, inDashedRun, inPhoneRun, upperRun, letterRun };
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
  // The built-ins read the text folded (`fold.ts`): other spaces, dashes and digits, invisible characters.
  let folded: FoldedText | undefined | null = null;
  let digits: DigitCounts | undefined;
  // Custom recognizers read the text as it is.
  let originalDigits: DigitCounts | undefined;
  for (const recognizer of recognizers) {
    if (skipLabels?.has(recognizer.label)) continue;
    const regex = recognizer.regex;
    let fresh: Detection[] | undefined;
    if (regex instanceof RegExp) {
      if (folded === null) folded = foldText(text);
      const source = folded?.text ?? text;
      if (recognizer.minLength !== undefined && source.length < recognizer.minLength) continue;
      if (recognizer.mayMatch && !recognizer.mayMatch(source, (digits ??= countDigits(source)))) continue;
      regex.lastIndex = 0;
      let match: RegExpExecArray | null;
      while ((match = regex.exec(source)) !== null) {
        const begin = match.index;
        let end = begin + match[0].length;
        if (end === begin) {
          regex.lastIndex++;
          continue;
        }
        if (recognizer.validate && !recognizer.validate(match[0])) continue;
        if (recognizer.accept) {
          const length = recognizer.accept(match[0]);
          if (length === 0) {
            // A match none of whose prefixes is a detection may hold one further on (`12/29 5500 0000 …`
            // after a card): the scan goes on from its next character. Matches are bounded, so this stays linear.
            regex.lastIndex = begin + 1;
            continue;
          }
          // What is left of the match is scanned again.
          end = regex.lastIndex = begin + length;
        }
        (fresh ??= []).push(
          folded
            ? { label: recognizer.label, begin: folded.begins[begin]!, end: folded.ends[end - 1]! }
            : { label: recognizer.label, begin, end },
        );
      }
    } else {
      if (recognizer.minLength !== undefined && text.length < recognizer.minLength) continue;
      if (recognizer.mayMatch && !recognizer.mayMatch(text, (originalDigits ??= countDigits(text)))) continue;
      if (!regex.test(text)) continue;
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

/**
 * Merges two sorted, internally disjoint lists into one: ranges that overlap become their union, labelled by
 * the recognizer listed first (an accepted range), so no part of what any recognizer found stays in clear
 * (`0044 0532 0130 00` read as a phone number inside an IBAN no longer leaves the IBAN's head). Linear.
 */
function mergeDetections(accepted: Detection[], fresh: Detection[]): Detection[] {
  const merged: Detection[] = [];
  // Whether the last merged range holds an accepted one, whose label it then keeps.
  let lastHoldsAccepted = false;
  let i = 0;
  let j = 0;
  while (i < accepted.length || j < fresh.length) {
    const fromAccepted = j >= fresh.length || (i < accepted.length && accepted[i]!.begin <= fresh[j]!.begin);
    const next = fromAccepted ? accepted[i++]! : fresh[j++]!;
    const last = merged[merged.length - 1];
    if (last === undefined || next.begin >= last.end) {
      merged.push(next);
      lastHoldsAccepted = fromAccepted;
      continue;
    }
    merged[merged.length - 1] = {
      label: lastHoldsAccepted || !fromAccepted ? last.label : next.label,
      begin: last.begin,
      end: Math.max(last.end, next.end),
    };
    lastHoldsAccepted ||= fromAccepted;
  }
  return merged;
}

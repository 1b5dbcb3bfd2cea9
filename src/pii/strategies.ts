// Masking strategies (redact, partial, pseudonym, replace, remove, custom) compiled from their options.
import { createHmac, type KeyObject } from 'node:crypto';
import { ConfigError, didYouMean } from '../errors.js';
import { integerOption } from '../options.js';
import { isEmailAddress } from './recognizers.js';

const INVALID = 'pii.invalid_strategy';

/** What a custom strategy learns about the value it masks. */
export interface StrategyContext {
  /** The rule's label, or the recognizer's label for text matches. */
  label: string;
}

export type CustomStrategy = (text: string, context: StrategyContext) => string;

/**
 * How a sensitive value (or a matched part of a text) is masked:
 * - `'redact'` / `{kind: 'redact', char}`: every character becomes `char` (default `X`), keeping the length;
 * - `{kind: 'partial', keepLast, char}`: like redact but the last `keepLast` characters (default 4) stay,
 *   at most half of them and nothing before an `@`; an e-mail address keeps only its first character and its
 *   domain (`jXXX@gmx.de`); redact and partial give a secret's label (password, token, API key, ... see `isSecretLabel`) `SECRET_MASK_LENGTH`
 *   characters of `char` instead, so its mask does not tell its length;
 * - `'pseudonym'` / `{kind: 'pseudonym', prefix, length}`: a stable keyed hash (HMAC-SHA256 with the
 *   masker's `pseudonymKey`), base64url, `length` characters (default 16, 8–43);
 * - `{kind: 'replace', with}`: a fixed text such as `[REDACTED]`;
 * - `'remove'`: the property (or array element, or matched text) is dropped;
 * - a function `(text, {label}) => string`.
 */
export type StrategySpec =
  | 'redact'
  | 'partial'
  | 'pseudonym'
  | 'remove'
  | { kind: 'redact'; char?: string }
  | { kind: 'partial'; keepLast?: number; char?: string }
  | { kind: 'pseudonym'; prefix?: string; length?: number }
  | { kind: 'replace'; with: string }
  | { kind: 'remove' }
  | CustomStrategy;

export interface Strategy {
  /** True when the masked value is dropped rather than replaced. */
  removes: boolean;
  apply(text: string, label: string): string;
  /** The strategy for values of one label: the length-keeping ones give secrets a fixed-length mask. */
  forLabel(label: string): Strategy;
}

/** Length of the mask of a secret's value, whatever the value's length. */
export const SECRET_MASK_LENGTH = 8;

// Labels (rule labels default to the key or path) of values whose length alone helps whoever guesses them.
const SECRET_LABEL =
  /pass(?:word|wd|phrase|code)|pwd|secret|token|api[-_]?key|authorization|cookie|credential|cvc|cvv|private[-_]?key|jwt/i;

/** True for the label of a secret (password, token, API key, ...): its mask never tells its length. */
export function isSecretLabel(label: string): boolean {
  return SECRET_LABEL.test(label);
}

// `forLabel` of strategies whose output never depends on the value's length.
function fixedFor(this: Strategy): Strategy {
  return this;
}

/** A length-keeping strategy whose `forLabel` hides the length of secrets. */
function lengthKeeping(apply: (text: string) => string, fill: (length: number) => string): Strategy {
  const secret: Strategy = { removes: false, apply: () => fill(SECRET_MASK_LENGTH), forLabel: fixedFor };
  const strategy: Strategy = {
    removes: false,
    apply,
    forLabel: (label) => (isSecretLabel(label) ? secret : strategy),
  };
  return strategy;
}

const KINDS = ['redact', 'partial', 'pseudonym', 'replace', 'remove'];

/** `length` copies of `char`; short ones are made once and reused, being the same strings every time. */
function fillOf(char: string): (length: number) => string {
  const cache: string[] = [];
  return (length) => (length <= 256 ? (cache[length] ??= char.repeat(length)) : char.repeat(length));
}

/** Mask characters that stand for an address's local part whatever its length, which is not shown either. */
const EMAIL_LOCAL_MASK_LENGTH = 3;

/**
 * `j***@gmx.de`: the first character of the local part (none when the local part is that one character),
 * a fixed-length mask and the domain. The end of the local part (`…eider@`) is what identifies its owner.
 */
function partialEmail(text: string, at: number, fill: (length: number) => string): string {
  const first = String.fromCodePoint(text.codePointAt(0)!);
  const shown = first.length < at ? first : '';
  return shown + fill(EMAIL_LOCAL_MASK_LENGTH) + text.slice(at);
}

export function compileStrategy(spec: StrategySpec, option: string, pseudonymKey: KeyObject | undefined): Strategy {
  if (typeof spec === 'function') {
    return { removes: false, apply: (text, label) => String(spec(text, { label })), forLabel: fixedFor };
  }
  const kind = typeof spec === 'string' ? spec : (spec as { kind?: unknown } | null)?.kind;
  const options = typeof spec === 'object' && spec !== null ? (spec as Record<string, unknown>) : {};
  const charOf = (): string => {
    const char = options.char ?? 'X';
    if (typeof char !== 'string' || [...char].length !== 1) {
      throw new ConfigError(`${option}.char`, 'must be one character', { code: INVALID });
    }
    return char;
  };
  switch (kind) {
    case 'redact': {
      const fill = fillOf(charOf());
      return lengthKeeping((text) => fill(text.length), fill);
    }
    case 'partial': {
      const fill = fillOf(charOf());
      const keep = integerOption(`${option}.keepLast`, options.keepLast, { fallback: 4, max: 64, code: INVALID });
      return lengthKeeping((text) => {
        const at = text.lastIndexOf('@');
        if (at > 0 && isEmailAddress(text)) return partialEmail(text, at, fill);
        // A short value would be shown whole; always hide at least half of it, and never what precedes an `@`
        // (the end of the local part of an address inside the text).
        const shown = Math.min(keep, Math.floor(text.length / 2), text.length - at - 1);
        return fill(text.length - shown) + text.slice(text.length - shown);
      }, fill);
    }
    case 'pseudonym': {
      if (!pseudonymKey) {
        throw new ConfigError(option, 'is "pseudonym" but the masker has no pseudonymKey (PSEUDONYM_KEY)', {
          code: 'pii.missing_key',
        });
      }
      const length = integerOption(`${option}.length`, options.length, {
        fallback: 16,
        min: 8,
        max: 43,
        code: INVALID,
      });
      const prefix = options.prefix ?? '';
      if (typeof prefix !== 'string' || prefix.length > 32) {
        throw new ConfigError(`${option}.prefix`, 'must be a string of at most 32 characters', {
          code: INVALID,
        });
      }
      const key = pseudonymKey;
      return {
        removes: false,
        forLabel: fixedFor,
        apply: (text) =>
          prefix +
          createHmac('sha256', key)
            .update(text)
            .digest('base64url')
            .slice(0, length as number),
      };
    }
    case 'replace': {
      const replacement = options.with;
      if (typeof replacement !== 'string') {
        throw new ConfigError(`${option}.with`, 'must be a string', { code: INVALID });
      }
      return { removes: false, apply: () => replacement, forLabel: fixedFor };
    }
    case 'remove':
      return { removes: true, apply: () => '', forLabel: fixedFor };
    default:
      throw new ConfigError(option, `is not a strategy (${KINDS.join(', ')} or a function)`, {
        code: INVALID,
        hint: typeof kind === 'string' ? didYouMean(kind, KINDS) : undefined,
      });
  }
}

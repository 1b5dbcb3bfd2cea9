// vakt's string-policy syntax: literal text with regular-expression parts between `<` and `>`.
import { compileRegex, type LinearRegex } from '../regex.js';

/** Longest input a policy regex is run against; longer values simply do not match. */
export const MAX_REGEX_INPUT = 1024;

export interface TaggedPattern {
  /** The anchored regex, or `undefined` when the string has no tags (plain equality then). */
  regex: LinearRegex | undefined;
  /** The literal text before the first tag: every match starts with it (the index uses it). */
  prefix: string;
}

const START = '<';
const END = '>';

export function hasTags(text: string): boolean {
  return text.includes(START) || text.includes(END);
}

/**
 * Translates `foo<[abc]{2}>bar` to `^foo(?:[abc]{2})bar$`: literal parts escaped, regex parts kept,
 * the whole anchored. Nested `<...>` inside a regex part (named groups) keeps its depth.
 * Throws `Error` for unbalanced tags, `PatternError` for patterns the linear-time engine refuses.
 */
export function compileTagged(text: string): TaggedPattern {
  if (!hasTags(text)) return { regex: undefined, prefix: text };
  const cached = cache.get(text);
  if (cached) return cached;
  const compiled = compileUncached(text);
  // Bounded: policies reloaded from a store share compiled patterns (and their prefixes).
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(text, compiled);
  return compiled;
}

const CACHE_SIZE = 10_000;
const cache = new Map<string, TaggedPattern>();

function compileUncached(text: string): TaggedPattern {
  let source = '^';
  let prefix: string | undefined;
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === END) throw new Error(`unbalanced "${END}" at position ${i}`);
    if (ch !== START) {
      literal += ch;
      i++;
      continue;
    }
    prefix ??= literal;
    source += escapeRegex(literal);
    literal = '';
    let depth = 1;
    let j = i + 1;
    for (; j < text.length && depth > 0; j++) {
      const c = text[j];
      if (c === '\\') j++;
      else if (c === START) depth++;
      else if (c === END) depth--;
    }
    if (depth !== 0) throw new Error(`unclosed "${START}" at position ${i}`);
    const part = text.slice(i + 1, j - 1);
    if (part === '') throw new Error(`empty "${START}${END}" at position ${i}`);
    source += `(?:${part})`;
    i = j;
  }
  source += `${escapeRegex(literal)}$`;
  return { regex: compileRegex(source), prefix: prefix ?? '' };
}

export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

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

/** Tags that do not pair up: vakt's regex checker gives up on the field; the other checkers read the text. */
export class UnbalancedTagsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnbalancedTagsError';
  }
}

const START = '<';
const END = '>';

/** vakt's exact and fuzzy checkers compare a policy string wrapped whole in tags (`<sun>`) without them. */
export function withoutWholeTag(text: string): string {
  return text.length > 1 && text.startsWith(START) && text.endsWith(END) ? text.slice(1, -1) : text;
}

/** How many top-level `<...>` tags the text holds (nested tags count once; unpaired ones not at all). */
export function countTags(text: string): number {
  let depth = 0;
  let count = 0;
  for (const ch of text) {
    if (ch === START) depth++;
    else if (ch === END && depth > 0 && --depth === 0) count++;
  }
  return count;
}

export function hasTags(text: string): boolean {
  return text.includes(START) || text.includes(END);
}

/**
 * Translates `foo<[abc]{2}>bar` to `^foo(?:[abc]{2})bar$`: literal parts escaped, regex parts kept,
 * the whole anchored. Nested `<...>` inside a regex part (named groups) keeps its depth; as in vakt, a
 * backslash does not escape a tag. Throws `UnbalancedTagsError` for tags that do not pair up, `PatternError`
 * for patterns the linear-time engine refuses.
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
    if (ch === END) throw new UnbalancedTagsError(`unbalanced "${END}" at position ${i}`);
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
      if (c === START) depth++;
      else if (c === END) depth--;
    }
    if (depth !== 0) throw new UnbalancedTagsError(`unclosed "${START}" at position ${i}`);
    // An empty tag is an empty group in vakt: `a<>b` is `ab`.
    source += `(?:${text.slice(i + 1, j - 1)})`;
    i = j;
  }
  source += `${escapeRegex(literal)}$`;
  return { regex: compileRegex(source), prefix: prefix ?? '' };
}

export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

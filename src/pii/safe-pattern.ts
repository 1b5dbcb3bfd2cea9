// Rejects custom recognizer patterns that can backtrack catastrophically (nested or ambiguous repetition).

export interface UnsafePattern {
  reason: string;
}

interface Group {
  /** The group holds a quantifier or an alternation. */
  risky: boolean;
}

/**
 * A conservative static check: a group repeated without an upper bound (`*`, `+`, `{n,}`) must hold neither
 * a quantifier nor an alternation, and backreferences are refused. That rules out `(a+)+`, `(a|a)*` and
 * `(\w+\s?)*`, the usual ReDoS shapes; some safe patterns are refused too, which is the right side to err on.
 */
export function checkPatternSafety(source: string): UnsafePattern | undefined {
  const stack: Group[] = [{ risky: false }];
  let lastGroupRisky: boolean | undefined;
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (char === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9k]/.test(next)) return { reason: 'backreferences are not allowed' };
      i++;
      lastGroupRisky = undefined;
      continue;
    }
    if (char === '[') {
      // Skip the character class; quantifiers on it are single-step.
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') {
        if (source[i] === '\\') i++;
        i++;
      }
      lastGroupRisky = undefined;
      continue;
    }
    if (char === '(') {
      stack.push({ risky: false });
      lastGroupRisky = undefined;
      continue;
    }
    if (char === ')') {
      const group = stack.pop();
      if (!group || stack.length === 0) return { reason: 'unbalanced parentheses' };
      lastGroupRisky = group.risky;
      if (group.risky) stack[stack.length - 1]!.risky = true;
      continue;
    }
    if (char === '|') {
      stack[stack.length - 1]!.risky = true;
      lastGroupRisky = undefined;
      continue;
    }
    const unbounded = char === '*' || char === '+' || (char === '{' && /^\{\d+,\}/.test(source.slice(i)));
    const bounded = char === '?' || (char === '{' && /^\{\d+(,\d+)?\}/.test(source.slice(i)));
    if (unbounded || bounded) {
      if (unbounded && lastGroupRisky) {
        return { reason: 'a repeated group contains another repetition or an alternation (catastrophic backtracking)' };
      }
      stack[stack.length - 1]!.risky = true;
      if (char === '{') i = source.indexOf('}', i);
      lastGroupRisky = undefined;
      continue;
    }
    lastGroupRisky = undefined;
  }
  if (stack.length !== 1) return { reason: 'unbalanced parentheses' };
  return undefined;
}

// Reads the excerpt of an answer the README shows and checks a real answer against it, field by field.
//
// The excerpt is JSON with `…` in three roles: standing alone in an object or array it means "more fields
// or items follow", as a field's value any value, inside a string any text (`"XXXX…@example.com"`). Every
// field shown must be in the answer with that value; an object or array without a standalone `…` must have
// nothing else.

const MORE = '\u0000more';
const ANY = '\u0000any';

/** Parses an excerpt into a JSON value whose partial objects and arrays carry the MORE marker. */
export function parseShown(text: string): unknown {
  let out = '';
  const stack: string[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (inString) {
      out += char;
      if (char === '\\') out += text[++i] ?? '';
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '{' || char === '[') stack.push(char);
    else if (char === '}' || char === ']') stack.pop();
    else if (char === '…') {
      // Written escaped: JSON text may not hold the control character itself. After a colon it is any value.
      if (out.trimEnd().endsWith(':')) out += '"\\u0000any"';
      else out += stack.at(-1) === '{' ? '"\\u0000more": true' : '"\\u0000more"';
      continue;
    }
    out += char;
  }
  return JSON.parse(out) as unknown;
}

function wildcard(pattern: string): RegExp {
  const parts = pattern.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[\\s\\S]*')}$`);
}

/** The differences between an answer and the shown excerpt, as `path: why` lines; empty when it matches. */
export function shownMismatches(shown: unknown, actual: unknown, path = '$'): string[] {
  if (shown === ANY) return actual === undefined ? [`${path}: missing`] : [];
  if (typeof shown === 'string') {
    if (typeof actual !== 'string') return [`${path}: expected a string like ${JSON.stringify(shown)}`];
    return wildcard(shown).test(actual) ? [] : [`${path}: ${JSON.stringify(actual)} is not ${JSON.stringify(shown)}`];
  }
  if (Array.isArray(shown)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array`];
    const partial = shown.at(-1) === MORE;
    const items = partial ? shown.slice(0, -1) : shown;
    if (partial ? actual.length < items.length : actual.length !== items.length) {
      return [`${path}: ${actual.length} items, the README shows ${items.length}${partial ? ' or more' : ''}`];
    }
    return items.flatMap((item, index) => shownMismatches(item, actual[index], `${path}[${index}]`));
  }
  if (shown !== null && typeof shown === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: expected an object`];
    const entries = Object.entries(shown).filter(([key]) => key !== MORE);
    const problems = entries.flatMap(([key, value]) =>
      Object.hasOwn(actual, key)
        ? shownMismatches(value, (actual as Record<string, unknown>)[key], `${path}.${key}`)
        : [`${path}.${key}: missing`],
    );
    if (!Object.hasOwn(shown, MORE)) {
      const extra = Object.keys(actual).filter((key) => !Object.hasOwn(shown, key));
      if (extra.length > 0) problems.push(`${path}: has ${extra.join(', ')}, which the README does not show`);
    }
    return problems;
  }
  return Object.is(shown, actual) ? [] : [`${path}: ${JSON.stringify(actual)} is not ${JSON.stringify(shown)}`];
}

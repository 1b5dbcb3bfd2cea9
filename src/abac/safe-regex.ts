// Regexes from policies must not hang the process: reject catastrophic shapes at load, bound the input.

/** Longest pattern accepted from a policy. */
export const MAX_PATTERN_LENGTH = 1000;
/** Longest input a policy regex is run against; longer values simply do not match. */
export const MAX_REGEX_INPUT = 1024;
/** Unbounded repetitions allowed in one pattern: two keep the worst case quadratic on bounded input. */
export const MAX_UNBOUNDED_REPETITIONS = 2;

interface Frame {
  /** A repetition other than `?` occurs inside. */
  repeats: boolean;
  alternation: boolean;
  branches: string[];
  current: string;
  plain: boolean;
}

interface Atom {
  kind: 'char' | 'class' | 'group' | 'escape';
  repeats?: boolean;
  alternation?: boolean;
  branches?: string[];
  plain?: boolean;
}

/**
 * Returns why a JavaScript regex source is unsafe to run on untrusted input, or `undefined` when it is
 * acceptable: no backreferences, no repetition of something that itself repeats (`(a+)+`), no repeated
 * alternation whose branches can overlap (`(a|ab)*`), at most two unbounded repetitions overall.
 */
export function regexHazard(source: string): string | undefined {
  if (source.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  const stack: Frame[] = [newFrame()];
  let unbounded = 0;
  let last: Atom | undefined;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    const frame = stack[stack.length - 1]!;
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined) return 'ends with a lone backslash';
      if (/[1-9]/.test(next) || (next === 'k' && source[i + 2] === '<')) return 'uses a backreference';
      frame.current += ch + next;
      frame.plain &&= !/[dDwWsSbBpPu0xc]/.test(next);
      last = { kind: 'escape' };
      i++;
      continue;
    }
    if (ch === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      if (j >= source.length) return 'has an unclosed character class';
      frame.current += source.slice(i, j + 1);
      frame.plain = false;
      last = { kind: 'class' };
      i = j;
      continue;
    }
    if (ch === '(') {
      stack.push(newFrame());
      frame.plain = false;
      if (source[i + 1] === '?') {
        const lookbehindOrNamed = source[i + 2] === '<';
        if (lookbehindOrNamed && source[i + 3] !== '=' && source[i + 3] !== '!') {
          const close = source.indexOf('>', i);
          if (close < 0) return 'has an unterminated group name';
          i = close;
        } else {
          i += lookbehindOrNamed ? 3 : 2;
        }
      }
      last = undefined;
      continue;
    }
    if (ch === ')') {
      if (stack.length === 1) return 'has an unbalanced ")"';
      const closed = stack.pop()!;
      closed.branches.push(closed.current);
      const parent = stack[stack.length - 1]!;
      parent.repeats ||= closed.repeats;
      parent.current += '(group)';
      last = {
        kind: 'group',
        repeats: closed.repeats,
        alternation: closed.alternation,
        branches: closed.branches,
        plain: closed.plain,
      };
      continue;
    }
    if (ch === '|') {
      frame.alternation = true;
      frame.branches.push(frame.current);
      frame.current = '';
      last = undefined;
      continue;
    }
    const quantifier = readQuantifier(source, i);
    if (quantifier) {
      if (!last) return 'has a repetition of nothing';
      const lazyOrPossessive = source[quantifier.end + 1] === '?' ? 1 : 0;
      if (quantifier.max === Infinity || quantifier.max > 16) {
        unbounded++;
        if (last.kind === 'group' && last.repeats) return 'repeats a group that itself repeats (nested quantifiers)';
        if (last.kind === 'group' && last.alternation && !distinctLiteralBranches(last)) {
          return 'repeats an alternation whose branches can overlap';
        }
      }
      if (quantifier.max > 1) frame.repeats = true;
      frame.plain = false;
      frame.current += source.slice(i, quantifier.end + 1);
      i = quantifier.end + lazyOrPossessive;
      last = undefined;
      continue;
    }
    if ('.^$'.includes(ch)) frame.plain = false;
    frame.current += ch;
    last = { kind: 'char' };
  }
  if (stack.length !== 1) return 'has an unclosed "("';
  if (unbounded > MAX_UNBOUNDED_REPETITIONS) {
    return `has ${unbounded} unbounded repetitions (at most ${MAX_UNBOUNDED_REPETITIONS} allowed)`;
  }
  return undefined;
}

function newFrame(): Frame {
  return { repeats: false, alternation: false, branches: [], current: '', plain: true };
}

function distinctLiteralBranches(atom: Atom): boolean {
  if (!atom.plain || !atom.branches) return false;
  const firsts = new Set<string>();
  for (const branch of atom.branches) {
    if (branch === '' || /[\\.[\]()*+?{}^$]/.test(branch)) return false;
    if (firsts.has(branch[0]!)) return false;
    firsts.add(branch[0]!);
  }
  return true;
}

function readQuantifier(source: string, i: number): { max: number; end: number } | undefined {
  const ch = source[i];
  if (ch === '*' || ch === '+') return { max: Infinity, end: i };
  if (ch === '?') return { max: 1, end: i };
  if (ch !== '{') return undefined;
  const match = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 24));
  if (!match) return undefined;
  const max = match[2] === undefined ? Number(match[1]) : match[3] === '' ? Infinity : Number(match[3]);
  return { max, end: i + match[0].length - 1 };
}

/** Compiles a policy regex after the hazard check; throws `Error` naming the hazard. */
export function compileSafeRegex(source: string, flags = ''): RegExp {
  if (source.length > MAX_PATTERN_LENGTH)
    throw new Error(`regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags);
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: /, '');
    throw new Error(`invalid regular expression: ${reason}`, { cause: error });
  }
  const hazard = regexHazard(source);
  if (hazard) throw new Error(`unsafe regular expression: ${hazard}`);
  return regex;
}

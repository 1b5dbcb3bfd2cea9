// Regexes from configuration, policies and grants: JavaScript syntax, run on RE2 (re2js) in time linear in the input.
import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';
import { PortcullisError } from './errors.js';

/** Longest pattern accepted from configuration, a policy or a grant. */
export const MAX_PATTERN_LENGTH = 1000;
/**
 * Most engine instructions a compiled pattern may have. Matching costs up to input length × program size, so
 * a pattern such as `(.*){1,1000}` (5 000 instructions) is linear with a constant too large to serve.
 */
export const MAX_PROGRAM_SIZE = 2000;

/**
 * Engine work, in program instructions times input characters, that one decision (an ABAC decision, an
 * endpoint check) may spend on configured patterns: a quarter of a second or so of the engine. Linear time per
 * pattern is no bound when a policy set holds many large patterns; past this the decision fails with 400
 * `regex.too_costly` instead of holding the event loop. Patterns proven linear run on RegExp and are not counted.
 */
export const REGEX_WORK_BUDGET = 1_000_000;

export class RegexBudgetError extends PortcullisError {
  constructor() {
    super(
      400,
      'Bad Request',
      'regex.too_costly',
      'The request is too costly to check against the configured patterns.',
    );
  }
}

/** A scan for all matches (`matches()`) gives up after this long plus SCAN_MS_PER_CHAR a character of input. */
export const SCAN_BASE_MS = 100;
export const SCAN_MS_PER_CHAR = 0.002;

let budgetLeft = Infinity;

/** Runs a synchronous decision under `REGEX_WORK_BUDGET`; nested calls share the outermost budget. */
export function withinRegexBudget<T>(run: () => T): T {
  if (budgetLeft !== Infinity) return run();
  budgetLeft = REGEX_WORK_BUDGET;
  try {
    return run();
  } finally {
    budgetLeft = Infinity;
  }
}

function spend(work: number): void {
  if (budgetLeft === Infinity) return;
  budgetLeft -= work;
  if (budgetLeft < 0) throw new RegexBudgetError();
}

/** Why a pattern was refused: `regex.invalid` (not a JavaScript regex) or `regex.unsupported` (no linear-time form). */
export type PatternErrorCode = 'regex.invalid' | 'regex.unsupported';

/** A pattern that cannot run on the linear-time engine; `message` names the pattern and the reason. */
export class PatternError extends Error {
  readonly code: PatternErrorCode;
  readonly pattern: string;
  readonly reason: string;

  constructor(pattern: string, reason: string, code: PatternErrorCode, options?: { cause?: unknown }) {
    const shown = pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern;
    super(`${code === 'regex.invalid' ? 'invalid' : 'unsupported'} regular expression /${shown}/: ${reason}`, options);
    this.name = 'PatternError';
    this.code = code;
    this.pattern = pattern;
    this.reason = reason;
  }
}

/** One match: the half-open range `[begin, end)` in UTF-16 code units, like `RegExp` indices. */
export interface PatternMatch {
  begin: number;
  end: number;
}

/** A compiled pattern. Stateless: share it freely (unlike a global `RegExp`, it has no `lastIndex`). */
export interface LinearRegex {
  readonly source: string;
  readonly flags: string;
  /** Instructions of the engine's program, the work of a test per input character; 0 when `RegExp` runs it. */
  readonly programSize: number;
  /** True when the pattern matches somewhere in `input` (like `RegExp.prototype.test` without `g`). */
  test(input: string): boolean;
  /** Leftmost-first, non-overlapping matches from left to right (like `String.prototype.matchAll`). */
  matches(input: string): Generator<PatternMatch, void, undefined>;
}

const ACCEPTED_FLAGS = new Set(['d', 'g', 'i', 'm', 's', 'u']);
const CACHE_LIMIT = 10_000;
// Policies reloaded from a store, and the parse-then-compile of a rule, share compiled patterns.
const cache = new LRUCache<string, LinearRegex>({ max: CACHE_LIMIT });

/**
 * Compiles a JavaScript regex (source and flags, or a `RegExp`) for the linear-time engine. Everything
 * JavaScript accepts is accepted except what has no linear-time form: backreferences (`\1`, `\k<name>`),
 * lookahead and lookbehind (`(?=`, `(?!`, `(?<=`, `(?<!`), legacy octal escapes, lone surrogates, the `y` and
 * `v` flags; RE2's own limits apply too (repetition counts up to 1000). `g` and `d` are ignored: matching
 * never keeps state. Throws `PatternError` naming the pattern and the reason.
 */
export function compileRegex(pattern: string | RegExp, flags?: string, options: CompileOptions = {}): LinearRegex {
  const source = typeof pattern === 'string' ? pattern : pattern.source;
  const flagText = flags ?? (typeof pattern === 'string' ? '' : pattern.flags);
  const key = `${flagText}/${source}`;
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = compileUncached(source, flagText);
    cache.set(key, compiled);
  }
  if (options.scan) engines.get(compiled)!();
  return compiled;
}

export interface CompileOptions {
  /**
   * Build the engine's program now, so that `matches()` cannot fail later: patterns proven linear test on
   * `RegExp` and otherwise build it on first use. Default false.
   */
  scan?: boolean;
}

// The engine's program of each compiled pattern, built on first need: about 85 bytes and up to 3 µs an
// instruction (13 KB for a small pattern, 170 KB for `.{990}`), which policy sets with thousands of
// distinct tags should not pay for patterns that test on RegExp. The programs are shared and bounded by
// their total size: a set of thousands of large patterns keeps the recently run ones, and a pattern whose
// program was dropped builds it again when it next runs, at a cost counted in the decision's budget.
const engines = new WeakMap<LinearRegex, () => RE2JS>();
const ENGINE_CACHE_INSTRUCTIONS = 500_000;
const programs = new LRUCache<string, RE2JS>({
  maxSize: ENGINE_CACHE_INSTRUCTIONS,
  sizeCalculation: (program) => Math.max(1, program.programSize()),
});
/** Budget work of building a program again: about ten test steps an instruction, plus a fixed part. */
const REBUILD_WORK_PER_INSTRUCTION = 10;
const REBUILD_WORK_BASE = 400;

function compileUncached(source: string, flags: string): LinearRegex {
  if (typeof source !== 'string') throw new PatternError(String(source), 'must be a string', 'regex.invalid');
  if (source.length > MAX_PATTERN_LENGTH) {
    throw new PatternError(source, `longer than ${MAX_PATTERN_LENGTH} characters`, 'regex.invalid');
  }
  for (const flag of flags) {
    if (!ACCEPTED_FLAGS.has(flag)) {
      const reason = flag === 'y' || flag === 'v' ? `the "${flag}" flag is not supported` : `unknown flag "${flag}"`;
      throw new PatternError(source, reason, flag === 'y' || flag === 'v' ? 'regex.unsupported' : 'regex.invalid');
    }
  }
  const unicode = flags.includes('u');
  const dotAll = flags.includes('s');
  // JavaScript's parser decides what is a pattern at all, so the accepted language is JavaScript's, minus
  // what the translation refuses. Constructing a RegExp never runs it.
  try {
    new RegExp(source, unicode ? 'u' : '');
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    throw new PatternError(source, reason, 'regex.invalid', { cause: error });
  }
  const normalizedFlags = [...flags].filter((flag) => 'imsu'.includes(flag)).join('');
  const key = `${normalizedFlags}/${source}`;
  let size = 0;
  const engine = (): RE2JS => {
    let program = programs.get(key);
    if (program === undefined) {
      // Built again after it was dropped (the first build, at compile time, has size 0 here).
      if (size > 0) spend(REBUILD_WORK_BASE + REBUILD_WORK_PER_INSTRUCTION * size);
      program = buildEngine(source, flags, unicode, dotAll);
      programs.set(key, program);
    }
    return program;
  };
  // The engine costs about a microsecond a call on short inputs, RegExp a tenth of that: ABAC decisions and
  // endpoint checks test short strings against simple anchored patterns, which JavaScript may run itself
  // when the shape proves backtracking linear. Its u flag matches by code point and folds case as RE2 does.
  const direct = provablyLinear(source, normalizedFlags) ? directRegExp(source, normalizedFlags) : undefined;
  if (!direct) size = engine().programSize();
  const compiled: LinearRegex = {
    source,
    flags: normalizedFlags,
    programSize: size,
    test: direct
      ? (input) => direct.test(input)
      : (input) => {
          spend(size * (input.length + 1));
          return engine().test(input);
        },
    *matches(input) {
      const program = engine();
      const matcher = program.matcher(input);
      // Each search may run from where the last match ended to the end of the input (`a.*z|a` on a run of
      // a's): with many matches that adds up to quadratic time, and the engine does not say how far it looked.
      // So the scan has a deadline that grows with the input, and past it gives up (RegexBudgetError).
      const deadline = performance.now() + SCAN_BASE_MS + SCAN_MS_PER_CHAR * input.length;
      while (matcher.find()) {
        if (performance.now() > deadline) throw new RegexBudgetError();
        yield { begin: matcher.start(), end: matcher.end() };
      }
    },
  };
  engines.set(compiled, engine);
  return compiled;
}

function buildEngine(source: string, flags: string, unicode: boolean, dotAll: boolean): RE2JS {
  const translated = new Translator(source, unicode, dotAll).translate();
  let engineFlags = 0;
  if (flags.includes('i')) engineFlags |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) engineFlags |= RE2JS.MULTILINE;
  if (dotAll) engineFlags |= RE2JS.DOTALL;
  let re: RE2JS;
  try {
    re = RE2JS.compile(translated, engineFlags);
  } catch (error) {
    const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
    throw new PatternError(source, reason, 'regex.unsupported', { cause: error });
  }
  if (re.programSize() > MAX_PROGRAM_SIZE) {
    const reason = `compiles to ${re.programSize()} instructions (at most ${MAX_PROGRAM_SIZE}; lower the repetition counts)`;
    throw new PatternError(source, reason, 'regex.unsupported');
  }
  return re;
}

function directRegExp(source: string, flags: string): RegExp | undefined {
  try {
    return new RegExp(source, `${flags.replace('u', '')}u`);
  } catch {
    return undefined; // identity escapes such as `\-` are syntax errors with the u flag
  }
}

type Token =
  | { kind: 'atom'; source: string; literal: boolean; min: number; max: number }
  | { kind: 'open' | 'close' | 'alt' | 'bol' | 'eol' };

const SIMPLE_TOKEN =
  /\\[dDwWsS]|\\[^A-Za-z0-9]|\\x[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\[tnrfv]|\[(?:\\[^A-Za-z0-9]|\\[dDwWsStnrfv]|[^\\\][])+\]|\(\?:|\(\?<[A-Za-z]\w*>|[()|^$.]|[^\\[\](){}|^$.*+?]/y;
const QUANTIFIER = /(?:([*+?])|\{(\d{1,4})(,(\d{0,4}))?\})\??/y;

/**
 * A sufficient condition for JavaScript's backtracking to run in linear time, checked on the pattern's
 * shape: anchored by a leading `^`; quantifiers only on single-character atoms, never on groups; a quantifier
 * with a choice (`+`, `*`, `?`, `{n,m}`) followed by a literal character it cannot match, or by a final `$`;
 * at most one alternation, of quantifier-free literal branches with distinct first characters, inside a group.
 * Then at every choice the losing branch fails on the next character, so each start position costs O(n),
 * and the `^` makes every later start fail at once. Anything else runs on the engine.
 */
export function provablyLinear(source: string, flags: string): boolean {
  if (flags.includes('m') || !/^[\x20-\x7e]*$/.test(source) || !source.startsWith('^')) return false;
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    SIMPLE_TOKEN.lastIndex = i;
    const match = SIMPLE_TOKEN.exec(source);
    if (!match) return false;
    const text = match[0];
    i += text.length;
    if (text === '(' || text.startsWith('(?')) tokens.push({ kind: 'open' });
    else if (text === ')') tokens.push({ kind: 'close' });
    else if (text === '|') tokens.push({ kind: 'alt' });
    else if (text === '^') tokens.push({ kind: 'bol' });
    else if (text === '$') tokens.push({ kind: 'eol' });
    else {
      QUANTIFIER.lastIndex = i;
      const quantifier = QUANTIFIER.exec(source);
      let [min, max] = [1, 1];
      if (quantifier) {
        i += quantifier[0].length;
        const [, symbol, low, comma, high] = quantifier;
        if (symbol) [min, max] = symbol === '+' ? [1, Infinity] : symbol === '*' ? [0, Infinity] : [0, 1];
        else [min, max] = [Number(low), comma === undefined ? Number(low) : high === '' ? Infinity : Number(high)];
        // RE2's own bound, so that a pattern is accepted or refused alike on either path.
        if (min > 1000 || (max !== Infinity && max > 1000)) return false;
      }
      const literal = text.length === 1 ? text !== '.' : /^\\[^A-Za-z0-9]$/.test(text);
      tokens.push({ kind: 'atom', source: text, literal, min, max });
      continue;
    }
    // Groups, anchors and alternations are never quantified here.
    QUANTIFIER.lastIndex = i;
    if (QUANTIFIER.test(source)) return false;
  }
  try {
    return tokens.every((_, index) => tokenIsLinear(tokens, index, flags)) && alternationsAreLinear(tokens, flags);
  } catch {
    return false; // an atom that is a syntax error with the u flag
  }
}

function tokenIsLinear(tokens: readonly Token[], index: number, flags: string): boolean {
  const token = tokens[index]!;
  if (token.kind === 'bol')
    return tokens.slice(0, index).every((before) => before.kind === 'open' || before.kind === 'bol');
  if (token.kind === 'eol')
    return tokens.slice(index + 1).every((next) => next.kind === 'close' || next.kind === 'eol');
  if (token.kind !== 'atom' || token.min === token.max) return true;
  let next = index + 1;
  while (tokens[next]?.kind === 'close') next++;
  const follower = tokens[next];
  if (follower?.kind === 'eol') return true;
  if (follower?.kind !== 'atom' || !follower.literal || follower.min !== 1 || follower.max !== 1) return false;
  return !new RegExp(`^(?:${token.source})$`, `${flags.replace('u', '')}u`).test(literalChar(follower.source));
}

function alternationsAreLinear(tokens: readonly Token[], flags: string): boolean {
  const alternations = tokens.filter((token) => token.kind === 'alt').length;
  if (alternations === 0) return true;
  const first = tokens.findIndex((token) => token.kind === 'alt');
  let open = first;
  while (open >= 0 && tokens[open]!.kind !== 'open') open--;
  let close = first;
  while (close < tokens.length && tokens[close]!.kind !== 'close') close++;
  if (open < 0 || close === tokens.length) return false;
  const branches: string[] = [''];
  for (const token of tokens.slice(open + 1, close)) {
    if (token.kind === 'alt') branches.push('');
    else if (token.kind === 'atom' && token.literal && token.min === 1 && token.max === 1) {
      branches[branches.length - 1] += literalChar(token.source);
    } else return false;
  }
  if (branches.length !== alternations + 1 || branches.some((branch) => branch === '')) return false;
  // Distinct first characters as the pattern's own flags compare them (the i flag folds case).
  return branches.every((branch, a) =>
    branches.every(
      (other, b) =>
        a === b || !new RegExp(`^${escapeLiteral(branch[0]!)}$`, `${flags.replace('u', '')}u`).test(other[0]!),
    ),
  );
}

function literalChar(source: string): string {
  return source.length === 2 ? source[1]! : source;
}

function escapeLiteral(char: string): string {
  return /[A-Za-z0-9]/.test(char) ? char : `\\${char}`;
}

// JavaScript's \s: WhiteSpace and LineTerminator (RE2's \s is ASCII only).
const SPACE_RANGES: readonly (readonly [number, number])[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
const MAX_CODE_POINT = 0x10ffff;

const hex = (cp: number) => `\\x{${cp.toString(16)}}`;
const rangeText = ([lo, hi]: readonly [number, number]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`);

function complement(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

const SPACE = SPACE_RANGES.map(rangeText).join('');
const NOT_SPACE = complement(SPACE_RANGES).map(rangeText).join('');
// JavaScript's `.` without the s flag: anything but a line terminator (RE2's excludes only \n).
const NOT_LINE_TERMINATOR = `[^${[0x0a, 0x0d, 0x2028, 0x2029].map(hex).join('')}]`;
const EVERYTHING = `\\x{0}-${hex(MAX_CODE_POINT)}`;

/** A class atom: one code point, or a set written as the inside of an RE2 bracket expression. */
type Atom = { cp: number } | { set: string };

const CONTROL: Record<string, number> = { t: 0x09, n: 0x0a, v: 0x0b, f: 0x0c, r: 0x0d };
const PROPERTY_PREFIX = /^(?:General_Category|gc|Script|sc)=/;

/** Rewrites a JavaScript pattern as an RE2 pattern with the same meaning, refusing what RE2 cannot run. */
class Translator {
  private i = 0;

  constructor(
    private readonly src: string,
    private readonly unicode: boolean,
    private readonly dotAll: boolean,
  ) {}

  translate(): string {
    let out = '';
    const src = this.src;
    while (this.i < src.length) {
      const ch = src[this.i]!;
      switch (ch) {
        case '\\': {
          const escape = this.escape(false);
          out += 'cp' in escape ? hex(escape.cp) : escape.set;
          break;
        }
        case '[':
          out += this.characterClass();
          break;
        case '(':
          out += this.group();
          break;
        case '.':
          this.i++;
          out += this.dotAll ? '.' : NOT_LINE_TERMINATOR;
          break;
        case '{': {
          const quantifier = /^\{\d+(?:,\d*)?\}/.exec(src.slice(this.i, this.i + 24));
          out += quantifier ? quantifier[0] : hex(0x7b);
          this.i += quantifier ? quantifier[0].length : 1;
          break;
        }
        case '}':
        case ']':
          this.i++;
          out += hex(ch.charCodeAt(0));
          break;
        case '^':
        case '$':
        case '|':
        case ')':
        case '*':
        case '+':
        case '?':
          this.i++;
          out += ch;
          break;
        default:
          out += hex(this.codePoint());
      }
    }
    return out;
  }

  private refuse(reason: string): never {
    throw new PatternError(this.src, reason, 'regex.unsupported');
  }

  /** The literal code point at the cursor; a lone surrogate has no code point the engine can match. */
  private codePoint(): number {
    const cp = this.src.codePointAt(this.i)!;
    if (cp >= 0xd800 && cp <= 0xdfff) this.refuse(`lone surrogate at position ${this.i}`);
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private group(): string {
    const rest = this.src.slice(this.i, this.i + 4);
    if (rest.startsWith('(?:')) {
      this.i += 3;
      return '(?:';
    }
    if (rest.startsWith('(?=') || rest.startsWith('(?!')) {
      this.refuse(`lookahead "${rest.slice(0, 3)}" at position ${this.i} (no linear-time form)`);
    }
    if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) {
      this.refuse(`lookbehind "${rest}" at position ${this.i} (no linear-time form)`);
    }
    // Nothing reads groups back, so every group is non-capturing: the engine tracks fewer positions.
    if (rest.startsWith('(?<')) {
      this.i = this.src.indexOf('>', this.i) + 1;
      return '(?:';
    }
    if (rest.startsWith('(?')) this.refuse(`group "${rest.slice(0, 3)}" at position ${this.i}`);
    this.i++;
    return '(?:';
  }

  private characterClass(): string {
    const src = this.src;
    this.i++;
    const negated = src[this.i] === '^';
    if (negated) this.i++;
    let inside = '';
    let empty = true;
    while (src[this.i] !== ']') {
      empty = false;
      const first = this.classAtom();
      if (src[this.i] === '-' && src[this.i + 1] !== ']' && this.i + 1 < src.length) {
        this.i++;
        const last = this.classAtom();
        if ('cp' in first && 'cp' in last) {
          inside += first.cp === last.cp ? hex(first.cp) : `${hex(first.cp)}-${hex(last.cp)}`;
        } else {
          // `[\w-x]` outside the u flag: the dash is a literal.
          inside += this.atomText(first) + hex(0x2d) + this.atomText(last);
        }
      } else {
        inside += this.atomText(first);
      }
    }
    this.i++;
    // `[]` matches nothing and `[^]` anything; RE2 has no empty class.
    if (empty) return negated ? `[${EVERYTHING}]` : `[^${EVERYTHING}]`;
    return `[${negated ? '^' : ''}${inside}]`;
  }

  private atomText(atom: Atom): string {
    return 'cp' in atom ? hex(atom.cp) : atom.set;
  }

  private classAtom(): Atom {
    if (this.src[this.i] === '\\') {
      const escape = this.escape(true);
      if ('cp' in escape) return escape;
      return { set: escape.set.startsWith('[') ? escape.set.slice(1, -1) : escape.set };
    }
    return { cp: this.codePoint() };
  }

  /**
   * The escape at the cursor: a code point, or a set in RE2 syntax (bracketed where it needs brackets
   * outside a class), or an assertion. Backreferences and octal escapes are refused.
   */
  private escape(inClass: boolean): { cp: number } | { set: string } {
    const src = this.src;
    const at = this.i;
    const next = src[at + 1]!;
    this.i += 2;
    switch (next) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return { set: `\\${next}` };
      case 's':
        return { set: `[${SPACE}]` };
      case 'S':
        return { set: `[${NOT_SPACE}]` };
      case 'b':
        return inClass ? { cp: 0x08 } : { set: '\\b' };
      case 'B':
        return inClass ? { cp: 0x42 } : { set: '\\B' };
      case 't':
      case 'n':
      case 'v':
      case 'f':
      case 'r':
        return { cp: CONTROL[next]! };
      case '0':
        if (/[0-9]/.test(src[this.i] ?? '')) this.refuse(`legacy octal escape at position ${at} (write \\xNN)`);
        return { cp: 0 };
      case 'k':
        return this.refuse(`named backreference at position ${at} (no linear-time form)`);
      case 'c': {
        const letter = src[this.i] ?? '';
        if (/[A-Za-z]/.test(letter) || (inClass && !this.unicode && /[0-9_]/.test(letter))) {
          this.i++;
          return { cp: letter.charCodeAt(0) % 32 };
        }
        return this.refuse(`"\\c" at position ${at} is not followed by a letter`);
      }
      case 'x': {
        const digits = /^[0-9A-Fa-f]{2}/.exec(src.slice(this.i, this.i + 2));
        if (!digits) return { cp: 0x78 };
        this.i += 2;
        return { cp: parseInt(digits[0], 16) };
      }
      case 'u':
        return this.unicodeEscape(at);
      case 'p':
      case 'P': {
        if (!this.unicode) return { cp: next.charCodeAt(0) };
        const close = src.indexOf('}', this.i);
        const name = src.slice(this.i + 1, close).replace(PROPERTY_PREFIX, '');
        this.i = close + 1;
        return { set: `\\${next}{${name}}` };
      }
      default:
        if (/[1-9]/.test(next)) {
          return this.refuse(
            inClass
              ? `legacy octal escape at position ${at} (write \\xNN)`
              : `backreference "\\${next}" at position ${at} (no linear-time form)`,
          );
        }
        // Identity escapes: `\.`, `\/`, and outside the u flag any other character.
        this.i = at + 1;
        return { cp: this.codePoint() };
    }
  }

  private unicodeEscape(at: number): { cp: number } {
    const src = this.src;
    if (src[this.i] === '{' && this.unicode) {
      const close = src.indexOf('}', this.i);
      const cp = parseInt(src.slice(this.i + 1, close), 16);
      this.i = close + 1;
      if (cp >= 0xd800 && cp <= 0xdfff) this.refuse(`lone surrogate at position ${at}`);
      return { cp };
    }
    const unit = (offset: number) => {
      const digits = src.slice(offset, offset + 4);
      return /^[0-9A-Fa-f]{4}$/.test(digits) ? parseInt(digits, 16) : undefined;
    };
    const high = unit(this.i);
    if (high === undefined) return { cp: 0x75 };
    this.i += 4;
    if (high >= 0xd800 && high <= 0xdbff && src.startsWith('\\u', this.i)) {
      const low = unit(this.i + 2);
      if (low !== undefined && low >= 0xdc00 && low <= 0xdfff) {
        this.i += 6;
        return { cp: 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00) };
      }
    }
    if (high >= 0xd800 && high <= 0xdfff) this.refuse(`lone surrogate at position ${at}`);
    return { cp: high };
  }
}

// The one regex module: JavaScript meaning on the linear-time engine, refusals naming the pattern, time bounds.
import { expect } from 'chai';
import {
  compileRegex,
  MAX_PROGRAM_SIZE,
  PatternError,
  provablyLinear,
  RegexBudgetError,
  type LinearRegex,
} from '../../../src/regex.js';
import { prng as random } from '../../support/prng.js';

function spans(regex: LinearRegex, input: string): [number, number][] {
  return [...regex.matches(input)].map(({ begin, end }) => [begin, end]);
}

function jsSpans(source: string, flags: string, input: string): [number, number][] {
  return [...input.matchAll(new RegExp(source, `${flags}g`))].map((m) => [m.index, m.index + m[0].length]);
}

function sameSpans(regex: LinearRegex, source: string, flags: string, input: string): boolean {
  return JSON.stringify(spans(regex, input)) === JSON.stringify(jsSpans(source, flags, input));
}

describe('compileRegex (the linear-time engine for configured patterns)', function () {
  describe('keeps JavaScript meaning', function () {
    const agree: [string, string, string[]][] = [
      ['a.c', '', ['abc', 'a\nc', 'a\rc', 'a\u2028c', 'a\u2029c']],
      ['a.c', 's', ['a\nc', 'a\rc']],
      ['a\\sb', '', ['a b', 'a\u00a0b', 'a\u3000b', 'a\ufeffb', 'a\vb', 'axb']],
      ['a\\Sb', '', ['a b', 'a\u00a0b', 'axb']],
      ['[\\s\\d]+$', '', ['x 1\u00a0', 'x1!']],
      ['[^\\S]', '', ['\u2028', 'x']],
      ['[\\w-]+', '', ['-', '!']],
      ['[\\w-z]', '', ['-', 'z', '!']],
      ['[]', '', ['a', '']],
      ['[^]', '', ['\n', '']],
      ['(?<year>\\d{4})-\\d{2}', '', ['2024-05', '24-05']],
      ['\\u0041\\x42\\cJ', '', ['AB\n', 'ab\n']],
      ['\\u{1F600}', 'u', ['\u{1F600}', 'x']],
      ['\\uD83D\\uDE00', '', ['\u{1F600}']],
      ['^a$', 'm', ['x\na\ny', 'xa']],
      ['a$', '', ['a\n', 'a']],
      ['^a', '', ['\na']],
      ['a{,2}', '', ['a{,2}', 'aa']],
      ['a{2}', '', ['aa', 'a']],
      ['x}]', '', ['x}]']],
      ['\\/x\\-', '', ['/x-']],
      ['\\bword\\b', '', ['a word here', 'swordfish']],
      ['\\Bor\\B', '', ['word', 'or']],
      ['[\\b]', '', ['\b', 'b']],
      ['HELLO', 'i', ['hello', 'HeLLo', 'help']],
      ['[a-c]+', 'i', ['ABC', 'xyz']],
      ['\\p{Lu}+', 'u', ['ÀB', 'àb']],
      ['\\p{Script=Greek}', 'u', ['α', 'a']],
      ['', '', ['', 'x']],
      ['a|', '', ['b']],
      ['(?:ab)+?', '', ['ababab']],
    ];
    for (const [source, flags, inputs] of agree) {
      it(`/${source}/${flags}`, function () {
        const regex = compileRegex(source, flags);
        for (const input of inputs) {
          const js = new RegExp(source, flags);
          expect(regex.test(input), JSON.stringify(input)).to.equal(js.test(input));
          expect(spans(regex, input), JSON.stringify(input)).to.deep.equal(jsSpans(source, flags, input));
        }
      });
    }

    it('takes a RegExp with its flags, ignores g and d, and shares one compiled pattern', function () {
      const regex = compileRegex(/code-[a-z]{3}/gi);
      expect(regex.flags).to.equal('i');
      expect(regex.test('CODE-ABC')).to.equal(true);
      // No lastIndex: the same answer every time.
      expect(regex.test('CODE-ABC')).to.equal(true);
      expect(compileRegex('code-[a-z]{3}', 'gi')).to.equal(regex);
      expect(compileRegex('code-[a-z]{3}', 'dig')).to.not.equal(regex);
    });

    it('reports matches in UTF-16 code units, past astral characters', function () {
      expect(spans(compileRegex('[a-z]+@'), '\u{1F600}\u{1F600}ab@ cd@')).to.deep.equal([
        [4, 7],
        [8, 11],
      ]);
    });
  });

  describe('refuses, naming the pattern and the reason', function () {
    const refused: [string, string, RegExp, string][] = [
      ['(a)\\1', '', /backreference "\\1"/, 'regex.unsupported'],
      ['(?<x>a)\\k<x>', '', /named backreference/, 'regex.unsupported'],
      ['a(?=b)', '', /lookahead "\(\?="/, 'regex.unsupported'],
      ['a(?!b)', '', /lookahead "\(\?!"/, 'regex.unsupported'],
      ['(?<=a)b', '', /lookbehind "\(\?<="/, 'regex.unsupported'],
      ['(?<!a)b', '', /lookbehind "\(\?<!"/, 'regex.unsupported'],
      ['\\01', '', /legacy octal escape/, 'regex.unsupported'],
      ['[\\1]', '', /legacy octal escape/, 'regex.unsupported'],
      ['\\uD800', '', /lone surrogate/, 'regex.unsupported'],
      ['a{1001}', '', /invalid repeat count/, 'regex.unsupported'],
      ['(.*){1,1000}$', '', new RegExp(`at most ${MAX_PROGRAM_SIZE}`), 'regex.unsupported'],
      ['\\p{Letter}', 'u', /\\p\{Letter\}/, 'regex.unsupported'],
      ['a', 'y', /"y" flag/, 'regex.unsupported'],
      ['a', 'x', /unknown flag "x"/, 'regex.invalid'],
      ['(', '', /Unterminated group/, 'regex.invalid'],
      ['a**', '', /Nothing to repeat/, 'regex.invalid'],
      ['x'.repeat(1001), '', /longer than 1000 characters/, 'regex.invalid'],
    ];
    for (const [source, flags, reason, code] of refused) {
      it(`/${source.slice(0, 20)}/${flags}`, function () {
        let thrown: unknown;
        try {
          compileRegex(source, flags);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).to.be.instanceOf(PatternError);
        const error = thrown as PatternError;
        expect(error.code).to.equal(code);
        expect(error.pattern).to.equal(source);
        expect(error.message).to.match(reason);
        expect(error.message).to.include(source.slice(0, 20));
      });
    }
  });

  describe('catastrophic patterns on adversarial input (mocha timeout bounds each case)', function () {
    // About 1 µs per character on a quiet machine; a backtracking engine takes minutes to forever on
    // these inputs, so a bound with room for a loaded CI machine still tells the two apart.
    this.timeout(5000);
    // Each of these takes seconds to forever with a backtracking engine at these sizes.
    const corpus: [string, (n: number) => string][] = [
      ['(a+)+$', (n) => `${'a'.repeat(n)}!`],
      ['(a|a)*$', (n) => `${'a'.repeat(n)}!`],
      ['(a|aa)+$', (n) => `${'a'.repeat(n)}!`],
      ['(.*a){20}', (n) => 'a'.repeat(n)],
      ['([a-z]+)*@', (n) => 'a'.repeat(n)],
      ['(\\w+\\d*)+$', (n) => `${'a1'.repeat(n / 2)}!`],
      ['(x+x+)+y', (n) => 'x'.repeat(n)],
      ['(a*)*b', (n) => 'a'.repeat(n)],
      ['(\\s*\\S*)+$', (n) => `${' a'.repeat(n / 2)}\u0000`],
      ['^(([a-z])+.)+[A-Z]([a-z])+$', (n) => `${'a'.repeat(n)}!`],
      ['(a|b|ab)*c', (n) => 'ab'.repeat(n / 2)],
      ['^acc_([a-z0-9]+){1,16}$', (n) => `acc_${'a'.repeat(n)}!`],
      ['/accounts/(\\w|\\d)+$', (n) => `/accounts/${'1'.repeat(n)}!`],
      ['[a-z]+[a-z]+[a-z]+@', (n) => 'a'.repeat(n)],
      ['(?:[a-z]+,){1,}$', (n) => `${'a,'.repeat(n / 2)}!`],
      ['(\\d+\\.?)+\\d{1000}x', (n) => '1.'.repeat(n / 2)],
    ];
    for (const [source, input] of corpus) {
      it(`/${source}/: test on 1 000 000 characters, every match on 10 000`, function () {
        const regex = compileRegex(source);
        const js = new RegExp(source);
        const short = input(8);
        expect(regex.test(short)).to.equal(js.test(short));
        regex.test(input(1_000_000));
        // The scan for every match has a deadline (a busy machine can reach it): then it gives up, failing closed.
        try {
          expect([...regex.matches(input(10_000))].length).to.be.at.most(10_000);
        } catch (error) {
          expect(error).to.be.instanceOf(RegexBudgetError);
        }
      });
    }
  });

  describe('the RegExp fast path for shapes proven linear', function () {
    it('takes the anchored shapes of tags, endpoints and simple rules', function () {
      for (const source of [
        '^(?:[A-Za-z]+ M[a-z]+)$',
        '^(?:read|get)$',
        '^library:org1:(?:[0-9]+)$',
        '^acc_[a-z0-9]+$',
        '^(?:^/accounts/[^/]+$)$',
        '^\\d{3}-\\d{4}$',
        '^(?:A|a)$',
      ]) {
        expect(provablyLinear(source, ''), source).to.equal(true);
      }
    });

    it('leaves everything else to the engine', function () {
      for (const [source, flags] of [
        ['(a+)+$', ''],
        ['^(a+)+$', ''],
        ['^(a|a)*$', ''],
        ['^/accounts/(\\w|\\d)+$', ''],
        ['^acc_([a-z0-9]+){1,16}$', ''],
        ['^[a-z]+[a-z]+[a-z]+@', ''],
        ['^(?:a*)*$', ''],
        ['^a|b', ''],
        ['^(?:a|ab)c', ''],
        ['^(?:a|b)(?:c|d)$', ''],
        ['^\\d+\\.?\\d*$', ''],
        ['^a*a$', ''],
        ['^[a-z]+A', 'i'],
        ['^(?:A|a)$', 'i'],
        ['^[a-z]+$', 'm'],
        ['^.+x', 's'],
      ]) {
        expect(provablyLinear(source!, flags!), `/${source}/${flags}`).to.equal(false);
      }
    });

    it('builds the engine only when matches() needs it, or at once with scan', function () {
      const wide = '^a{1000}b{1000}$';
      expect(compileRegex(wide).test(`${'a'.repeat(1000)}${'b'.repeat(1000)}`)).to.equal(true);
      expect(() => compileRegex(wide, '', { scan: true })).to.throw(PatternError, /instructions/);
      expect(spans(compileRegex('^acc_[a-z0-9]+$', '', { scan: true }), 'acc_1')).to.deep.equal([[0, 5]]);
    });

    it('every random shape it accepts runs in linear time on RegExp (seeded)', function () {
      this.timeout(30_000);
      const next = random(17);
      const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
      const atoms = ['a', 'b', '-', '.', '\\d', '\\w', '\\s', '[ab]', '[^a]', '[a-c1]', '(?:ab|ba|c)', '(?:a', ')'];
      const quantifiers = ['', '', '+', '*', '?', '{2}', '{1,3}', '+?', '*?'];
      let accepted = 0;
      for (let n = 0; n < 3000; n++) {
        let source = '^';
        for (let k = 0, length = 1 + Math.floor(next() * 5); k < length; k++) source += pick(atoms) + pick(quantifiers);
        if (next() < 0.5) source += '$';
        const flags = pick(['', 'i', 's']);
        try {
          new RegExp(source, `${flags}u`);
        } catch {
          continue;
        }
        if (!provablyLinear(source, flags)) continue;
        accepted++;
        const regex = new RegExp(source, `${flags}u`);
        for (const fill of ['a', 'b', '1', ' ', 'ab', 'a-', 'ba']) {
          const started = performance.now();
          regex.test(`${fill.repeat(20_000)}!`);
          regex.test(fill.repeat(20_000));
          expect(performance.now() - started, `/${source}/${flags} on ${fill}`).to.be.below(100);
        }
      }
      expect(accepted).to.be.above(100);
    });
  });

  describe('seeded fuzz: random patterns and inputs', function () {
    this.timeout(60_000);
    const SEED = 20261205;
    const CASES = 400;
    const BOUND_MS = 200;
    const atoms = ['a', 'b', 'A', '1', '-', ' ', '.', '\\d', '\\w', '\\s', '\\W', '[ab]', '[^a]', '[a-c1]', '\\b'];
    const quantifiers = ['', '', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '+?', '??'];
    const alphabet = ['a', 'b', 'A', '1', '-', ' ', '\n', '_', 'B'];

    function pattern(next: () => number, depth: number): string {
      const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
      const length = 1 + Math.floor(next() * 4);
      let out = '';
      for (let i = 0; i < length; i++) {
        const roll = next();
        let atom: string;
        if (roll < 0.2 && depth < 3) atom = `(${pattern(next, depth + 1)})`;
        else if (roll < 0.3 && depth < 3) atom = `(?:${pattern(next, depth + 1)}|${pattern(next, depth + 1)})`;
        else if (roll < 0.33) atom = pick(['^', '$']);
        else if (roll < 0.35) atom = pick(['\\1', '(?=a)', '(?<!b)']);
        else atom = pick(atoms);
        const quantifier = /^[$^]$|^\\b$/.test(atom) ? '' : pick(quantifiers);
        out += atom + quantifier;
      }
      return out;
    }

    it(`${CASES} cases from seed ${SEED}: within ${BOUND_MS} ms each, agreeing with RegExp where both accept`, function () {
      const next = random(SEED);
      let compared = 0;
      let agreedSpans = 0;
      let refused = 0;
      for (let n = 0; n < CASES; n++) {
        const source = pattern(next, 0);
        const flags = ['', 'i', 'm', 's', 'im'][Math.floor(next() * 5)]!;
        const started = performance.now();
        let regex: LinearRegex;
        try {
          regex = compileRegex(source, flags);
        } catch (error) {
          expect(error, source).to.be.instanceOf(PatternError);
          expect(/\\1|\(\?=|\(\?<!/.test(source), `refused /${source}/${flags}: ${(error as Error).message}`).to.equal(
            true,
          );
          refused++;
          continue;
        }
        // Short inputs, so that the backtracking RegExp finishes too.
        for (let k = 0; k < 6; k++) {
          const length = Math.floor(next() * 10);
          let input = '';
          for (let c = 0; c < length; c++) input += alphabet[Math.floor(next() * alphabet.length)];
          const context = `/${source}/${flags} on ${JSON.stringify(input)} (case ${n})`;
          const js = new RegExp(source, flags);
          expect(regex.test(input), context).to.equal(js.test(input));
          // Where the leftmost match starts is the same in every engine; where it ends can differ when a
          // repeated group can match the empty string (RE2 and ECMAScript treat empty iterations differently).
          expect([...regex.matches(input)][0]?.begin, context).to.equal(js.exec(input)?.index);
          if (sameSpans(regex, source, flags, input)) agreedSpans++;
          compared++;
        }
        // Long inputs only for the linear-time engine. Every match of a text costs up to the text's length each
        // (as in any leftmost-first engine), so the all-matches input is shorter.
        const hostile = alphabet[n % alphabet.length]!.repeat(20_000) + '!';
        regex.test(hostile);
        for (const _match of regex.matches(hostile.slice(-200)));
        expect(performance.now() - started, `/${source}/${flags}`).to.be.below(BOUND_MS);
      }
      expect(compared).to.be.above(CASES * 4);
      expect(refused).to.be.above(0);
      // Every match of every input agrees in nearly all cases; the rest are the empty-iteration differences.
      expect(agreedSpans / compared).to.be.above(0.95);
    });
  });
});

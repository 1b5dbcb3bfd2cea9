// Policy regexes run on the linear-time engine: what it cannot run is refused at load, naming the pattern.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { compileTagged } from '../../../src/abac/regex-syntax.js';
import { MAX_POLICY_REGEX_PROGRAM } from '../../../src/abac/regex-cost.js';
import { compileRegex, RegexBudgetError, withinRegexBudget } from '../../../src/regex.js';
import { parsePolicies, policy, rules, Guard } from 'portcullis';

describe('abac regexes', function () {
  it("refuses a policy whose regexes in all would use up a decision's regex budget, naming it", function () {
    // 1 002 instructions each: within every single-pattern limit.
    const large = (i: number) => ({ type: 'RegexMatch', pattern: `^.*a.{990}b${i}$` });
    const json = (count: number, nested = false) => ({
      uid: `rx${count}`,
      effect: 'allow',
      subjects: [{ type: 'Any' }],
      resources: [{ type: 'Any' }],
      actions: nested
        ? [{ type: 'Or', rules: Array.from({ length: count }, (_, i) => ({ type: 'Not', rule: large(i) })) }]
        : Array.from({ length: count }, (_, i) => large(i)),
    });
    expect(() => parsePolicies(JSON.stringify([json(5)]))).not.to.throw();
    for (const nested of [false, true]) {
      expect(() => parsePolicies(JSON.stringify([json(200, nested)])), `nested ${nested}`)
        .to.throw(/policy "rx200".*regexes compile to \d+ instructions in all \(at most \d+\)/)
        .with.property('code', 'abac.invalid_policy_file');
    }
    expect(MAX_POLICY_REGEX_PROGRAM).to.equal(20_000);
    // String-based policies count their tags' patterns the same way.
    const tags = Array.from({ length: 30 }, (_, i) => `<.*a.{990}b${i}>`);
    expect(() =>
      policy({ uid: 's', effect: 'allow', subjects: tags, actions: ['<.*>'], resources: ['<.*>'] }),
    ).to.throw(/policy "s": its regexes compile to \d+ instructions in all/);
  });

  it('keeps the programs of large patterns within a bounded cache, building a dropped one again within the budget', function () {
    this.timeout(60_000);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    // 600 distinct patterns of about 1 000 instructions: about 100 MB of programs if every one were kept.
    const compiled = Array.from({ length: 600 }, (_, i) => compileRegex(`^.*a.{990}b${i}$`));
    gc();
    const grown = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    expect(grown, 'MB kept').to.be.below(50);
    // The first pattern's program was dropped long ago: it is built again and still answers right.
    const input = `xa${'y'.repeat(990)}b0`;
    expect(compiled[0]!.test(input)).to.equal(true);
    expect(compiled[0]!.test(input.replace('b0', 'b1'))).to.equal(false);
    // Building it again is counted in a decision's budget: many dropped programs in one decision fail it.
    expect(() =>
      withinRegexBudget(() => {
        for (const regex of compiled.slice(0, 300)) regex.test('x');
      }),
    ).to.throw(RegexBudgetError);
  });

  it('refuses backreferences and lookaround at load, naming the policy, the path and the pattern', function () {
    expect(() => policy({ uid: 'evil', effect: 'allow', resources: ['<(a)\\1>'] })).to.throw(
      /policy "evil": resources\[0\]: invalid regex: unsupported regular expression \/.*\(a\)\\1.*\/: backreference/,
    );
    expect(() =>
      parsePolicies(JSON.stringify([{ uid: 'r', subjects: [{ name: { type: 'RegexMatch', pattern: 'x(?=y)' } }] }])),
    ).to.throw(
      /\[0\] policy "r" subjects\[0\]\.name\.pattern: RegexMatch: unsupported regular expression \/x\(\?=y\)\/: lookahead/,
    );
  });

  it('accepts catastrophic shapes: they run in linear time', function () {
    for (const pattern of ['(a+)+$', '(x*)*y', '(a|ab)*c', '^acc_([a-z0-9]+){1,16}$']) {
      expect(() => rules.RegexMatch(pattern), pattern).not.to.throw();
      expect(() => policy({ uid: 'p', effect: 'allow', resources: [`<${pattern}>`] }), pattern).not.to.throw();
    }
  });

  it('decides quickly on hostile inputs against the worst accepted patterns', function () {
    const guard = new Guard({
      checker: 'regex',
      policies: [
        policy({ uid: 'p', effect: 'allow', subjects: ['<(.*a){20}>'], actions: ['<.+>'], resources: ['<.*>'] }),
        policy({ uid: 'q', effect: 'allow', subjects: ['<.+>'], actions: ['<(a|aa)+>'], resources: ['<.*>'] }),
      ],
    });
    const ruleGuard = new Guard({
      policies: [
        policy({
          uid: 'q',
          effect: 'allow',
          subjects: [rules.RegexMatch('^acc_([a-z0-9]+){1,16}$')],
          actions: [rules.Any()],
          resources: [rules.Any()],
        }),
      ],
    });
    const started = performance.now();
    for (const length of [1000, 1024, 5000, 100_000]) {
      const hostile = 'a'.repeat(length) + '!';
      expect(guard.isAllowed({ subject: hostile, action: hostile, resource: 'y' })).to.be.false;
      expect(ruleGuard.isAllowed({ subject: `acc_${'a'.repeat(Math.min(length, 1000))}!`, action: 'x', resource: 'y' }))
        .to.be.false;
    }
    // A generous bound: backtracking would take minutes (hours for the RegexMatch), not a second.
    expect(performance.now() - started).to.be.below(1000);
  });

  it('translates vakt tags: literal parts escaped, regex parts anchored', function () {
    const { regex, prefix } = compileTagged('library:books:<.+>');
    expect(prefix).to.equal('library:books:');
    expect(regex!.test('library:books:Hobbit')).to.be.true;
    expect(regex!.test('xlibrary:books:Hobbit')).to.be.false;
    expect(compileTagged('a.b<\\d>').regex!.test('axb1')).to.be.false;
    expect(compileTagged('foo<[abc]{2}>bar').regex!.test('fooabbar')).to.be.true;
    expect(compileTagged('foo<[abc]{2}>bar').regex!.test('fooabbarx')).to.be.false;
    expect(compileTagged('<read|get>').regex!.test('readx')).to.be.false;
    expect(() => compileTagged('<abc')).to.throw(/unclosed/);
    expect(() => compileTagged('abc>')).to.throw(/unbalanced/);
  });
});

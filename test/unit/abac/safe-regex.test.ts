// Policy regexes cannot hang the process: catastrophic shapes are refused at load, inputs are bounded.
import { expect } from 'chai';
import { compileTagged, parsePolicies, policy, regexHazard, rules, Guard } from '../../../src/index.js';

describe('abac regex safety', function () {
  it('refuses nested quantifiers, overlapping repeated alternations, backreferences and too many repetitions', function () {
    for (const source of [
      '(a+)+$',
      '(a*)*b',
      '(\\w+\\s?)*$',
      '(a|a)*b',
      '(a|ab)+c',
      '(.*a){20}',
      '(a)\\1',
      '(?<x>a)\\k<x>',
      '.*.*.*x',
      'a+b+c+d',
    ]) {
      expect(regexHazard(source), source).to.be.a('string');
    }
  });

  it('accepts the usual policy shapes', function () {
    for (const source of [
      '^[a-zA-Z]+ M[a-z]+$',
      '(read|get)',
      '(foo|bar)+',
      '\\.rb$',
      '^library:books:.+$',
      'x{2,5}',
    ]) {
      expect(regexHazard(source), source).to.equal(undefined);
    }
  });

  it('rejects a hostile policy regex at load, naming the policy and the path', function () {
    expect(() => policy({ uid: 'evil', effect: 'allow', resources: ['<(a+)+>'] })).to.throw(
      /policy "evil": resources\[0\]: invalid regex: unsafe regular expression/,
    );
    expect(() =>
      parsePolicies(JSON.stringify([{ uid: 'r', subjects: [{ name: { type: 'RegexMatch', pattern: '(x*)*y' } }] }])),
    ).to.throw(/\[0\] policy "r" subjects\[0\]\.name\.pattern: RegexMatch: unsafe/);
  });

  it('decides quickly on hostile inputs against the worst accepted patterns', function () {
    const guard = new Guard({
      checker: 'regex',
      policies: [policy({ uid: 'p', effect: 'allow', subjects: ['<.*a.*a>'], actions: ['<.+>'], resources: ['<.*>'] })],
    });
    const ruleGuard = new Guard({
      policies: [
        policy({
          uid: 'q',
          effect: 'allow',
          subjects: [rules.RegexMatch('\\s*\\S*$')],
          actions: [rules.Any()],
          resources: [rules.Any()],
        }),
      ],
    });
    const started = performance.now();
    for (const length of [1000, 1024, 5000, 100_000]) {
      const hostile = 'a'.repeat(length) + '!';
      expect(guard.isAllowed({ subject: hostile, action: 'x', resource: 'y' })).to.be.false;
      ruleGuard.isAllowed({ subject: ' '.repeat(length) + '\u0000 x', action: 'x', resource: 'y' });
    }
    // A generous bound: catastrophic backtracking would take minutes, not a second.
    expect(performance.now() - started).to.be.below(2000);
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

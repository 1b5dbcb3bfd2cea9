// Policy regexes run on the linear-time engine: what it cannot run is refused at load, naming the pattern.
import { expect } from 'chai';
import { compileTagged } from '../../../src/abac/regex-syntax.js';
import { parsePolicies, policy, rules, Guard } from 'portcullis';

describe('abac regexes', function () {
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

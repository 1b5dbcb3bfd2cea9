// The guard: vakt's documented examples, deny overrides allow, errors deny, events, explain, cache, index.
import { expect } from 'chai';
import { allow, deny } from '../../../src/abac/policy.js';
import { createChecker, policyMatches } from '../../../src/abac/checkers.js';
import {
  createRuleRegistry,
  defineRule,
  Guard,
  policy,
  PolicySet,
  rules,
  type Decision,
  type Logger,
  type Policy,
} from 'portcullis';
import { normalizeInquiry } from '../../../src/abac/inquiry.js';

const { Eq, Any, StartsWith, And, Greater, Less, CIDR, NotEq, In, SubjectMatch } = rules;

function recordingLogger(): Logger & { errors: unknown[] } {
  const errors: unknown[] = [];
  return { errors, error: (object) => errors.push(object), warn() {}, info() {}, debug() {} };
}

describe('abac guard', function () {
  it("decides vakt's quick dive-in example (rules checker)", function () {
    const guard = new Guard({
      policies: [
        policy({
          uid: 123456,
          actions: [Eq('fork'), Eq('clone')],
          resources: [StartsWith('repos/Google', { ci: true })],
          subjects: [{ name: Any(), stars: And(Greater(50), Less(999)) }],
          effect: 'allow',
          context: { referer: Eq('https://github.com') },
        }),
      ],
    });
    const inquiry = {
      action: 'fork',
      resource: 'repos/google/tensorflow',
      subject: { name: 'larry', stars: 80 },
      context: { referer: 'https://github.com' },
    };
    expect(guard.isAllowed(inquiry)).to.be.true;
    expect(guard.isAllowed({ ...inquiry, subject: { name: 'larry', stars: 1000 } })).to.be.false;
    expect(guard.isAllowed({ ...inquiry, subject: { stars: 80 } }), 'missing attribute').to.be.false;
    expect(guard.isAllowed({ ...inquiry, subject: { name: 'larry', stars: '80' } }), 'wrong type').to.be.false;
    expect(guard.isAllowed({ ...inquiry, context: {} }), 'missing context key').to.be.false;
    expect(guard.isAllowed({ ...inquiry, action: 'delete' })).to.be.false;
    expect(guard.isAllowed({ ...inquiry, subject: 'larry' }), 'subject not an object').to.be.false;
  });

  it("decides vakt's IAM-style example (regex checker), and string policies never match the rules checker", function () {
    const policies = [
      policy({
        uid: 123457,
        effect: 'allow',
        subjects: ['<[a-zA-Z]+ M[a-z]+>'],
        resources: ['library:books:<.+>', 'office:magazines:<.+>'],
        actions: ['<read|get>'],
        context: { ip: CIDR('192.168.0.0/24') },
      }),
    ];
    const inquiry = {
      action: 'read',
      resource: 'library:books:Hobbit',
      subject: 'Jim Morrison',
      context: { ip: '192.168.0.220' },
    };
    expect(new Guard({ policies, checker: 'regex' }).isAllowed(inquiry)).to.be.true;
    expect(new Guard({ policies, checker: 'regex' }).isAllowed({ ...inquiry, subject: 'Jim Hendrix' })).to.be.false;
    expect(new Guard({ policies, checker: 'regex' }).isAllowed({ ...inquiry, context: { ip: '192.168.1.1' } })).to.be
      .false;
    expect(new Guard({ policies, checker: 'rules' }).isAllowed(inquiry)).to.be.false;
  });

  it('exact and fuzzy string checkers', function () {
    const policies = [policy({ uid: 's', effect: 'allow', subjects: ['sunny'], actions: ['get'], resources: ['x'] })];
    const exact = new Guard({ policies, checker: 'exact' });
    const fuzzy = new Guard({ policies, checker: 'fuzzy' });
    expect(exact.isAllowed({ subject: 'sunny', action: 'get', resource: 'x' })).to.be.true;
    expect(exact.isAllowed({ subject: 'sun', action: 'get', resource: 'x' })).to.be.false;
    expect(fuzzy.isAllowed({ subject: 'sun', action: 'get', resource: 'x' })).to.be.true;
    expect(fuzzy.isAllowed({ subject: 'moon', action: 'get', resource: 'x' })).to.be.false;
    expect(new Guard({ policies, checker: 'rules' }).isAllowed({ subject: 'sunny', action: 'get', resource: 'x' })).to
      .be.false;
  });

  it('deny overrides allow; nothing matching denies; deciders name the policies', function () {
    const guard = new Guard({
      policies: [
        allow({ uid: 'a1', subjects: [Any()], actions: [Eq('read')], resources: [Any()] }),
        allow({ uid: 'a2', subjects: [Eq('bob')], actions: [Any()], resources: [Any()] }),
        deny({ uid: 'd1', subjects: [Eq('bob')], actions: [Eq('read')], resources: [Eq('secret')] }),
      ],
    });
    const allowed = guard.decideSync({ subject: 'bob', action: 'read', resource: 'public' });
    expect(allowed.allowed).to.be.true;
    expect(allowed.deciders.sort()).to.deep.equal(['a1', 'a2']);
    const denied = guard.decideSync({ subject: 'bob', action: 'read', resource: 'secret' });
    expect(denied).to.include({ allowed: false, effect: 'deny', reason: 'denied by policy' });
    expect(denied.deciders).to.deep.equal(['d1']);
    const none = guard.decideSync({ subject: 'eve', action: 'write', resource: 'public' });
    expect(none).to.include({ allowed: false, reason: 'no policy allows this' });
    expect(none.deciders).to.deep.equal([]);
    expect(new Guard({ policies: [] }).isAllowed({ subject: 'x' })).to.be.false;
  });

  it('a policy with an empty list matches nothing (vakt semantics)', function () {
    const guard = new Guard({ policies: [allow({ uid: 'e', subjects: [Any()], actions: [], resources: [Any()] })] });
    expect(guard.isAllowed({ subject: 'a', action: 'b', resource: 'c' })).to.be.false;
  });

  it('any error while deciding denies, is logged and is never thrown', async function () {
    const registry = createRuleRegistry();
    const Boom = defineRule(
      {
        type: 'Boom',
        parse: () => ({}),
        compile: () => () => {
          throw new Error('kaboom');
        },
      },
      registry,
    );
    const logger = recordingLogger();
    const guard = new Guard({
      logger,
      policies: [allow({ uid: 'b', subjects: [Boom()], actions: [Any()], resources: [Any()] })],
    });
    expect(guard.isAllowed({ subject: 'x', action: 'y', resource: 'z' })).to.be.false;
    const decision = await guard.decide({ subject: 'x', action: 'y', resource: 'z' });
    expect(decision).to.include({ allowed: false, reason: 'the decision failed' });
    expect(logger.errors).to.have.length(2);
    expect(guard.isAllowed(null as never)).to.be.false;
  });

  it('emits every decision to listeners; a failing listener is logged and does not change the answer', function () {
    const logger = recordingLogger();
    const guard = new Guard({
      logger,
      policies: [allow({ uid: 'p', subjects: [Any()], actions: [Any()], resources: [Any()] })],
    });
    const seen: Decision[] = [];
    const stop = guard.onDecision((decision) => seen.push(decision));
    guard.onDecision(() => {
      throw new Error('listener broke');
    });
    expect(guard.isAllowed({ subject: 's', action: 'a', resource: 'r', context: { ip: '::1' } })).to.be.true;
    expect(seen).to.have.length(1);
    expect(seen[0]).to.deep.include({ effect: 'allow', deciders: ['p'], candidates: ['p'] });
    expect(seen[0]!.inquiry).to.deep.equal({ subject: 's', action: 'a', resource: 'r', context: { ip: '::1' } });
    expect(logger.errors).to.have.length(1);
    stop();
    guard.isAllowed({ subject: 's', action: 'a', resource: 'r' });
    expect(seen).to.have.length(1);
  });

  it('explains a deny with the closest policies and the element or attribute that failed', async function () {
    const guard = new Guard({
      policies: [
        allow({
          uid: 'close',
          subjects: [{ role: Eq('editor'), team: Eq('blue') }],
          actions: [Eq('edit')],
          resources: [Any()],
        }),
        allow({
          uid: 'far',
          subjects: [Eq('root')],
          actions: [Eq('delete')],
          resources: [Eq('db')],
          context: { ip: CIDR('10.0.0.0/8') },
        }),
      ],
    });
    const { decision, policies } = await guard.explain({
      subject: { role: 'editor' },
      action: 'edit',
      resource: 'doc',
    });
    expect(decision.allowed).to.be.false;
    expect(policies[0]!.uid).to.equal('close');
    expect(policies[0]!.fitted).to.deep.equal(['actions', 'resources', 'context']);
    expect(policies[0]!.failed).to.deep.equal([{ part: 'subjects', reason: 'attribute "team" is missing' }]);
    const far = policies.find((report) => report.uid === 'far')!;
    expect(far.failed.map((failure) => failure.part)).to.deep.equal(['subjects', 'actions', 'resources', 'context']);
    expect(far.failed[3]!.reason).to.equal('context key "ip" is missing');
    const allowed = await guard.explain({ subject: { role: 'editor', team: 'blue' }, action: 'edit', resource: 'x' });
    expect(allowed.policies.map((report) => report.uid)).to.deep.equal(['close']);
    expect(allowed.policies[0]!.matched).to.be.true;
  });

  it('follows vakt where a rule raises: the element does not fit (Not included), the context denies, explain says why', async function () {
    const { AllIn, Not } = rules;
    const logger = recordingLogger();
    const guard = new Guard({
      logger,
      policies: [
        allow({ uid: 'any', subjects: [Any()], actions: [Any()], resources: [Any()] }),
        // vakt: Not(AllIn) on a non-list raises, so this deny never fits a string resource.
        deny({ uid: 'not-list', subjects: [Any()], actions: [Any()], resources: [Not(AllIn('a'))] }),
        deny({ uid: 'ctx', subjects: [Any()], actions: [Any()], resources: [Any()], context: { n: Greater(1) } }),
      ],
    });
    expect(guard.isAllowed({ subject: 's', action: 'a', resource: 'r' })).to.be.true;
    expect(guard.isAllowed({ subject: 's', action: 'a', resource: ['b'] })).to.be.false;
    // Greater(1) on a string raises in the context: vakt's guard denies the whole inquiry.
    const decision = guard.decideSync({ subject: 's', action: 'a', resource: 'r', context: { n: 'x' } });
    expect(decision.allowed).to.be.false;
    expect(logger.errors).to.have.length(1);
    const { policies } = await guard.explain({ subject: 's', action: 'a', resource: 'r', context: { n: 'x' } }, 5);
    const ctx = policies.find((report) => report.uid === 'ctx')!;
    expect(ctx.failed[0]!.reason).to.match(/context "n": Greater raises on a string .*denies the decision/);
    const notList = policies.find((report) => report.uid === 'not-list')!;
    expect(notList.failed[0]!.reason).to.match(/Not raises on a string/);
  });

  it("reads string policies as vakt's checkers do: whole tags dropped by exact and fuzzy, unbalanced tags", function () {
    const wrapped = allow({ uid: 'w', subjects: ['<sun>'], actions: ['read'], resources: ['doc'] });
    const exact = new Guard({ policies: [wrapped], checker: 'exact' });
    expect(exact.isAllowed({ subject: 'sun', action: 'read', resource: 'doc' })).to.be.true;
    expect(exact.isAllowed({ subject: '<sun>', action: 'read', resource: 'doc' })).to.be.false;
    const fuzzy = new Guard({ policies: [wrapped], checker: 'fuzzy' });
    expect(fuzzy.isAllowed({ subject: 'su', action: 'read', resource: 'doc' })).to.be.true;
    // Unbalanced tags: text to exact and fuzzy; the regex checker gives up on the field at that element.
    const first = allow({ uid: 'u1', subjects: ['<a', 'b'], actions: ['read'], resources: ['doc'] });
    const last = allow({ uid: 'u2', subjects: ['b', '<a'], actions: ['read'], resources: ['doc'] });
    expect(
      new Guard({ policies: [first], checker: 'exact' }).isAllowed({ subject: '<a', action: 'read', resource: 'doc' }),
    ).to.be.true;
    expect(
      new Guard({ policies: [first], checker: 'regex' }).isAllowed({ subject: 'b', action: 'read', resource: 'doc' }),
    ).to.be.false;
    expect(
      new Guard({ policies: [last], checker: 'regex' }).isAllowed({ subject: 'b', action: 'read', resource: 'doc' }),
    ).to.be.true;
  });

  it('fails closed on a value too long for a regex: a deny with a regex is never skipped where vakt applies it', function () {
    const long = `acc_${'a'.repeat(1100)}`;
    const rulesGuard = new Guard({
      policies: [
        allow({ uid: 'all', subjects: [Any()], actions: [Any()], resources: [Any()] }),
        deny({ uid: 'acc', subjects: [Any()], actions: [Any()], resources: [rules.RegexMatch('acc_')] }),
      ],
    });
    expect(rulesGuard.isAllowed({ subject: 's', action: 'a', resource: 'other' })).to.be.true;
    expect(rulesGuard.isAllowed({ subject: 's', action: 'a', resource: long })).to.be.false;
    const stringGuard = new Guard({
      checker: 'regex',
      policies: [
        allow({ uid: 'all', subjects: ['<.*>'], actions: ['<.*>'], resources: ['<.*>'] }),
        deny({ uid: 'acc', subjects: ['<.*>'], actions: ['<.*>'], resources: ['acc_<.*>'] }),
      ],
    });
    expect(stringGuard.isAllowed({ subject: 's', action: 'a', resource: 'other' })).to.be.true;
    expect(stringGuard.isAllowed({ subject: 's', action: 'a', resource: long })).to.be.false;
  });

  it("makes a falsy subject, action or resource '' as vakt's Inquiry does", function () {
    const guard = new Guard({
      policies: [allow({ uid: '1', subjects: [Eq('')], actions: [Any()], resources: [Any()] })],
    });
    for (const subject of [null, 0, false, [], {}, '']) {
      expect(guard.isAllowed({ subject, action: 'a', resource: 'r' }), JSON.stringify(subject)).to.be.true;
    }
    expect(guard.isAllowed({ subject: 'x', action: 'a', resource: 'r' })).to.be.false;
  });

  it("caches decisions like vakt's create_cached_guard and drops them when a policy changes", function () {
    const set = new PolicySet();
    const guard = new Guard({ policies: set, cache: { maxSize: 256 } });
    set.add(allow({ uid: '1', actions: [Eq('get')], resources: [Eq('book')], subjects: [Eq('Max')] }));
    const inq1 = { action: 'get', resource: 'book', subject: 'Max' };
    const inq2 = { action: 'get', resource: 'book', subject: 'Jamey' };
    expect(guard.isAllowed(inq1)).to.be.true;
    expect(guard.isAllowed(inq1)).to.be.true;
    expect(guard.isAllowed(inq1)).to.be.true;
    expect(guard.isAllowed(inq2)).to.be.false;
    expect(guard.isAllowed(inq1)).to.be.true;
    expect(guard.isAllowed(inq1)).to.be.true;
    expect(guard.cacheStats()).to.include({ hits: 4, misses: 2, size: 2 });
    expect(guard.decideSync(inq1).cached).to.be.true;
    set.add(deny({ uid: '2', actions: [Any()], resources: [Eq('book')], subjects: [Eq('Max')] }));
    expect(guard.cacheStats()).to.include({ size: 0, invalidations: 2 });
    expect(guard.isAllowed(inq1)).to.be.false;
    // Type-tagged keys: 1 and "1" are different inquiries.
    expect(guard.cache!.keyOf({ subject: 1 })).to.not.equal(guard.cache!.keyOf({ subject: '1' }));
  });

  it('treats __proto__ and constructor keys as inert data', function () {
    const guard = new Guard({
      policies: [
        allow({ uid: 'p', subjects: [{ admin: Eq(true) }], actions: [Any()], resources: [{ constructor: Any() }] }),
      ],
    });
    const subject = JSON.parse('{"__proto__": {"admin": true}}') as unknown;
    expect(guard.isAllowed({ subject, action: 'a', resource: {} })).to.be.false;
    expect(guard.isAllowed({ subject: { admin: true }, action: 'a', resource: {} })).to.be.false;
    expect(guard.isAllowed({ subject: { admin: true }, action: 'a', resource: { constructor: 1 } })).to.be.true;
    expect(({} as Record<string, unknown>).admin).to.equal(undefined);
    const parsed = policy(
      JSON.parse(
        '{"uid":"q","effect":"allow","subjects":[{"__proto__":{"type":"Eq","value":1}}],"actions":[],"resources":[]}',
      ),
    );
    expect(Object.keys(parsed.subjects[0]!)).to.deep.equal(['__proto__']);
    expect(({} as Record<string, unknown>).type).to.equal(undefined);
  });

  it('the index never misses a matching policy (randomized against a full scan)', function () {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const words = ['read', 'write', 'repo/a', 'repo/b', 'repo/ab', 'x', '1'];
    const ruleFor = () => {
      switch (random(6)) {
        case 0:
          return Eq(words[random(words.length)]!);
        case 1:
          return In(words[random(7)]!, words[random(7)]!);
        case 2:
          return StartsWith(words[random(7)]!.slice(0, 1 + random(3)));
        case 3:
          return Any();
        case 4:
          return NotEq(words[random(7)]!);
        default:
          return And(Eq(words[random(7)]!), Any());
      }
    };
    const policies: Policy[] = [];
    for (let i = 0; i < 300; i++) {
      const element = () => (random(3) === 0 ? { name: ruleFor(), id: SubjectMatch('id') } : ruleFor());
      policies.push(
        policy({
          uid: `p${i}`,
          effect: random(4) === 0 ? 'deny' : 'allow',
          subjects: [element()],
          actions: [element(), ...(random(2) ? [element()] : [])],
          resources: [element()],
        }),
      );
    }
    const set = new PolicySet(policies);
    const checker = createChecker('rules');
    for (let i = 0; i < 500; i++) {
      const value = () => (random(3) === 0 ? { name: words[random(7)], id: 'i' } : words[random(7)]);
      const inquiry = normalizeInquiry({ subject: value(), action: value(), resource: value() });
      const expected = policies.filter((p) => policyMatches(checker, p, inquiry)).map((p) => p.uid);
      const candidates = set.candidates(inquiry, checker);
      const got = candidates.filter((p) => policyMatches(checker, p, inquiry)).map((p) => p.uid);
      expect(got.sort()).to.deep.equal(expected.sort());
    }
  });

  it('the index narrows candidates to the policies an inquiry can reach', function () {
    const set = new PolicySet();
    for (let i = 0; i < 1000; i++) {
      set.add(allow({ uid: `r${i}`, subjects: [Any()], actions: [Eq('read')], resources: [Eq(`doc${i}`)] }));
      set.add(
        allow({ uid: `s${i}`, subjects: [`user${i}`], actions: ['<read|get>'], resources: [`library:${i}:<.+>`] }),
      );
    }
    const rulesCandidates = set.candidates(
      normalizeInquiry({ subject: 'u', action: 'read', resource: 'doc7' }),
      createChecker('rules'),
    );
    expect(rulesCandidates.map((p) => p.uid)).to.deep.equal(['r7']);
    const regexCandidates = set.candidates(
      normalizeInquiry({ subject: 'user9', action: 'get', resource: 'library:9:x' }),
      createChecker('regex'),
    );
    expect(regexCandidates.map((p) => p.uid)).to.deep.equal(['s9']);
    set.delete('r7');
    expect(
      set.candidates(normalizeInquiry({ subject: 'u', action: 'read', resource: 'doc7' }), createChecker('rules')),
    ).to.deep.equal([]);
  });
});

describe('abac guard over a store', function () {
  it('refuses a decision cache that no policy change could invalidate', function () {
    const store = { findForInquiry: async () => [] } as never;
    expect(() => new Guard({ policies: store, cache: true })).to.throw(TypeError, /PolicyMirror/);
    expect(new Guard({ policies: store }).synchronous).to.be.false;
  });
});

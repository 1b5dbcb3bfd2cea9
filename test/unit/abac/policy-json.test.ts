// The policy format: JSON and YAML round trips, vakt's to_json import, validation naming uid and path.
import { expect } from 'chai';
import { allow } from '../../../src/abac/policy.js';
import {
  defineRule,
  Guard,
  parsePolicies,
  policyFromJSON,
  policyToJSON,
  PolicyFileError,
  rules,
  stringifyPolicies,
  type Policy,
} from 'portcullis';

const { Eq, Any, And, Greater, Less, In, StartsWith, CIDR, Not, RegexMatch, SubjectMatch } = rules;

// What vakt 1.5's Policy.to_json writes for rule-based and string-based policies (jsonpickle).
const vaktRulePolicy = {
  actions: [
    { 'py/object': 'vakt.rules.operator.Eq', val: 'fork' },
    { 'py/object': 'vakt.rules.operator.Eq', val: 'clone' },
  ],
  context: { referer: { 'py/object': 'vakt.rules.operator.Eq', val: 'https://github.com' } },
  description: 'Allow to fork or clone any Google repository',
  effect: 'allow',
  resources: [{ 'py/object': 'vakt.rules.string.StartsWith', val: 'repos/Google', ci: true }],
  subjects: [
    {
      name: { 'py/object': 'vakt.rules.logic.Any' },
      stars: {
        'py/object': 'vakt.rules.logic.And',
        rules: {
          'py/tuple': [
            { 'py/object': 'vakt.rules.operator.Greater', val: 50 },
            { 'py/object': 'vakt.rules.operator.Less', val: 999 },
          ],
        },
      },
      role: { 'py/object': 'vakt.rules.list.NotIn', data: { 'py/set': ['banned', 'guest'] } },
      // re.match is anchored at the start, so vakt itself needs the leading '.*'.
      file: { 'py/object': 'vakt.rules.string.RegexMatch', regex: { 'py/object': 're.Pattern', pattern: '.*\\.rb$' } },
    },
  ],
  type: 2,
  uid: 123456,
};

const vaktStringPolicy = {
  uid: '123457',
  effect: 'allow',
  description: null,
  subjects: ['<[a-zA-Z]+ M[a-z]+>'],
  resources: { 'py/tuple': ['library:books:<.+>', 'office:magazines:<.+>'] },
  actions: ['<read|get>'],
  context: { ip: { 'py/object': 'vakt.rules.net.CIDR', cidr: '192.168.0.0/24' } },
  type: 1,
};

describe('abac policy JSON and YAML', function () {
  it('imports vakt to_json output and decides the same way as vakt', function () {
    const [rulePolicy, stringPolicy] = parsePolicies(JSON.stringify([vaktRulePolicy, vaktStringPolicy]));
    expect(rulePolicy!.uid).to.equal('123456');
    expect(rulePolicy!.type).to.equal('rule');
    expect(stringPolicy!.type).to.equal('string');
    const ruleGuard = new Guard({ policies: [rulePolicy!] });
    const subject = { name: 'larry', stars: 80, role: 'member', file: 'main.rb' };
    const inquiry = {
      action: 'fork',
      resource: 'repos/google/tensorflow',
      subject,
      context: { referer: 'https://github.com' },
    };
    expect(ruleGuard.isAllowed(inquiry)).to.be.true;
    expect(ruleGuard.isAllowed({ ...inquiry, subject: { ...subject, role: 'guest' } })).to.be.false;
    expect(ruleGuard.isAllowed({ ...inquiry, subject: { ...subject, file: 'main.py' } })).to.be.false;
    const regexGuard = new Guard({ policies: [stringPolicy!], checker: 'regex' });
    expect(
      regexGuard.isAllowed({
        action: 'get',
        resource: 'office:magazines:Vogue',
        subject: 'Jim Morrison',
        context: { ip: '192.168.0.9' },
      }),
    ).to.be.true;
  });

  it('refuses a vakt policy with several tags in one string, which vakt 1.6 compiles wrongly', function () {
    const several = { ...vaktStringPolicy, subjects: ['a<b>c<d>e'] };
    expect(() => policyFromJSON(several)).to.throw(/subjects\[0\]: holds several <\.\.\.> tags/);
    // The same string in Portcullis' own format keeps its evident meaning.
    const portcullis = { uid: 'p', effect: 'allow', subjects: ['a<b>c<d>e'], actions: ['read'], resources: ['x'] };
    expect(policyFromJSON(portcullis).subjects).to.deep.equal(['a<b>c<d>e']);
  });

  it('accepts vakt policies given as to_json strings, one per line', function () {
    const lines = [JSON.stringify(JSON.stringify(vaktStringPolicy)), JSON.stringify(vaktRulePolicy)].join('\n');
    expect(parsePolicies(lines, { source: 'export.jsonl' }).map((p) => p.uid)).to.deep.equal(['123457', '123456']);
  });

  it('round-trips every built-in rule through JSON and YAML', function () {
    const original = allow({
      uid: 'all',
      description: 'every family',
      subjects: [{ name: Any(), stars: And(Greater(50), Less(999)), role: Not(In('a', 'b')), id: SubjectMatch('id') }],
      actions: [Eq('fork'), In('get', 'list')],
      resources: [StartsWith('repos/', { ci: true }), { file: RegexMatch('\\.rb$') }],
      context: { ip: CIDR('10.0.0.0/8') },
    });
    const json = policyToJSON(original);
    for (const format of ['json', 'yaml'] as const) {
      const [copy] = parsePolicies(stringifyPolicies([original], format), { format });
      expect(JSON.parse(JSON.stringify(policyToJSON(copy!)))).to.deep.equal(JSON.parse(JSON.stringify(json)));
    }
    expect(json.resources[0]).to.deep.equal({ type: 'StartsWith', value: 'repos/', ci: true });
  });

  it('reads YAML written by hand', function () {
    const yaml = `
- uid: admins
  effect: allow
  subjects:
    - groups: { type: AnyIn, values: [admins] }
  actions: [{ type: Any }]
  resources: [{ type: Any }]
  context:
    ip: { type: CIDR, cidr: 127.0.0.1/32 }
`;
    const [admins] = parsePolicies(yaml, { source: 'policies.yaml' });
    const guard = new Guard({ policies: [admins!] });
    expect(
      guard.isAllowed({ subject: { groups: ['admins'] }, action: 'x', resource: 'y', context: { ip: '127.0.0.1' } }),
    ).to.be.true;
  });

  it('names the policy uid and the path of every problem', function () {
    const bad = [
      { uid: 'p1', subjects: [{ type: 'Eqq', value: 1 }], actions: [{ type: 'Eq' }] },
      { uid: 'p2', resources: ['<[a-z>'], context: { ip: { type: 'CIDR', cidr: '10.0.0.300/8' } } },
      { uid: 'p3', subjects: ['alice', { type: 'Any' }], efect: 'allow' },
      { uid: 'p4', actions: [{ 'py/object': 'vakt.rules.operator.Nope', val: 1 }] },
    ];
    let caught: unknown;
    try {
      parsePolicies(JSON.stringify(bad), { source: 'bad.json' });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(PolicyFileError);
    const problems = (caught as PolicyFileError).errors!.map((problem) => `${problem.field}: ${problem.message}`);
    expect(problems).to.include.members([
      '[0] policy "p1" subjects[0]: unknown rule "Eqq" (did you mean Eq?)',
      '[0] policy "p1" actions[0].value: Eq: is required',
      '[1] policy "p2" context.ip.cidr: CIDR: "10.0.0.300/8" is not a valid IPv4 or IPv6 CIDR',
      '[2] policy "p3" efect: unknown policy field (did you mean effect?)',
      '[2] policy "p3" subjects[1]: mixes string and rule elements: a policy is either string-based (regex syntax) or rule-based',
      '[3] policy "p4" actions[0]: unknown vakt class "vakt.rules.operator.Nope"',
    ]);
    expect(problems.some((line) => line.startsWith('[1] policy "p2" resources[0]: invalid regex'))).to.be.true;
    expect((caught as Error).message).to.match(/^bad\.json: \[0\] policy "p1" subjects\[0\]: unknown rule "Eqq"/);
  });

  it('rejects files that are not policy lists, duplicate uids and unreadable text', function () {
    expect(() => parsePolicies('{"uid": 1}', { source: 'x.json' })).to.throw(/x\.json: must hold a list of policies/);
    expect(() => parsePolicies('[{"uid":"a"},{"uid":"a"}]')).to.throw(/duplicate uid "a"/);
    expect(() => parsePolicies('[{', { source: 'x.json' })).to.throw(/x\.json: is not valid JSON/);
    expect(() => parsePolicies('a: [', { source: 'x.yaml' })).to.throw(/x\.yaml: is not valid YAML/);
    expect(() => policyFromJSON({ uid: '' })).to.throw(/uid: is required/);
  });

  it('custom rules serialize and load like built-in ones', function () {
    const DivisibleBy = defineRule<{ value: number }>({
      type: 'DivisibleBy',
      parse(fields) {
        if (typeof fields.value !== 'number' || fields.value === 0)
          throw new rules.RuleArgumentError('must be a non-zero number', 'value');
        return { value: fields.value };
      },
      compile:
        ({ value }) =>
        (what) =>
          typeof what === 'number' && what % value === 0,
    });
    const original: Policy = allow({
      uid: 'div',
      subjects: [{ n: DivisibleBy({ value: 3 }) }],
      actions: [Any()],
      resources: [Any()],
    });
    const [copy] = parsePolicies(stringifyPolicies([original]));
    expect(policyToJSON(copy!).subjects[0]).to.deep.equal({ n: { type: 'DivisibleBy', value: 3 } });
    const guard = new Guard({ policies: [copy!] });
    expect(guard.isAllowed({ subject: { n: 9 }, action: 'a', resource: 'r' })).to.be.true;
    expect(guard.isAllowed({ subject: { n: 10 }, action: 'a', resource: 'r' })).to.be.false;
    expect(() => parsePolicies('[{"uid":"d","subjects":[{"n":{"type":"DivisibleBy","value":0}}]}]')).to.throw(
      /subjects\[0\]\.n\.value: DivisibleBy: must be a non-zero number/,
    );
    expect(() => defineRule({ type: 'Eq', parse: () => ({}), compile: () => () => true })).to.throw(/already exists/);
  });
});

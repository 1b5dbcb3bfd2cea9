// `portcullis authorize` on JSON, YAML and vakt files; bad files exit 2 with one clear line.
import { expect } from 'chai';
import { runCli } from '../../../src/cli/run.js';
import { io } from '../../support/cli-io.js';

const jsonPolicies = JSON.stringify([
  {
    uid: 'fork',
    effect: 'allow',
    subjects: [{ stars: { type: 'Greater', value: 50 } }],
    actions: [{ type: 'In', values: ['fork', 'clone'] }],
    resources: [{ type: 'StartsWith', value: 'repos/', ci: true }],
  },
  {
    uid: 'no-mallory',
    effect: 'deny',
    subjects: [{ name: { type: 'Eq', value: 'mallory' } }],
    actions: [{ type: 'Any' }],
    resources: [{ type: 'Any' }],
  },
]);

const yamlPolicies = `
- uid: library
  effect: allow
  subjects: ['<[a-zA-Z]+ M[a-z]+>']
  actions: ['<read|get>']
  resources: ['library:books:<.+>']
  context:
    ip: { type: CIDR, cidr: 192.168.0.0/24 }
`;

const vaktPolicies = JSON.stringify([
  {
    uid: 1,
    effect: 'allow',
    description: null,
    subjects: [{ name: { 'py/object': 'vakt.rules.logic.Any' } }],
    actions: [{ 'py/object': 'vakt.rules.operator.Eq', val: 'get' }],
    resources: [{ 'py/object': 'vakt.rules.list.In', data: { 'py/tuple': ['book', 'magazine'] } }],
    context: {},
  },
]);

describe('portcullis authorize', function () {
  it('decides JSON lines of inquiries against Portcullis JSON policies', async function () {
    const run = io({
      'p.json': jsonPolicies,
      'q.jsonl': [
        { subject: { name: 'larry', stars: 80 }, action: 'fork', resource: 'Repos/x' },
        { subject: { name: 'mallory', stars: 80 }, action: 'fork', resource: 'repos/x' },
        { subject: { name: 'larry', stars: 10 }, action: 'fork', resource: 'repos/x' },
      ]
        .map((inquiry) => JSON.stringify(inquiry))
        .join('\n'),
    });
    expect(await runCli(['authorize', '--policies', 'p.json', '--inquiries', 'q.jsonl'], run.io)).to.equal(0);
    expect(run.out.map((line) => JSON.parse(line))).to.deep.equal([
      { allowed: true, deciders: ['fork'] },
      { allowed: false, deciders: ['no-mallory'] },
      { allowed: false, deciders: [] },
    ]);
  });

  it('decides one inquiry against YAML string policies (regex checker chosen, or given)', async function () {
    const inquiry = JSON.stringify({
      subject: 'Jim Morrison',
      action: 'read',
      resource: 'library:books:Hobbit',
      context: { ip: '192.168.0.220' },
    });
    const run = io({ 'p.yaml': yamlPolicies, 'i.json': inquiry });
    expect(await runCli(['authorize', '--policies', 'p.yaml', '--inquiry', 'i.json'], run.io)).to.equal(0);
    expect(
      await runCli(['authorize', '--policies', 'p.yaml', '--checker', 'rules', '--inquiry', 'i.json'], run.io),
    ).to.equal(0);
    expect(run.out).to.deep.equal(['{"allowed":true,"deciders":["library"]}', '{"allowed":false,"deciders":[]}']);
  });

  it("reads vakt's to_json output", async function () {
    const run = io({ 'v.json': vaktPolicies, 'i.yaml': 'subject: {name: max}\naction: get\nresource: book\n' });
    expect(await runCli(['authorize', '--policies', 'v.json', '--inquiry', 'i.yaml'], run.io)).to.equal(0);
    expect(run.out).to.deep.equal(['{"allowed":true,"deciders":["1"]}']);
  });

  it('answers bad files and arguments with exit 2 and one line naming the problem', async function () {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ['--policies', 'bad.json', '--inquiry', 'i.json'],
        { 'bad.json': '[{"uid":"x","actions":[{"type":"Eqq"}]}]', 'i.json': '{}' },
        /bad\.json: \[0\] policy "x" actions\[0\]: unknown rule "Eqq" \(did you mean Eq\?\)/,
      ],
      [
        ['--policies', 'bad.json', '--inquiry', 'i.json'],
        { 'bad.json': '[{', 'i.json': '{}' },
        /bad\.json: is not valid JSON/,
      ],
      [
        ['--policies', 'bad.yaml', '--inquiry', 'i.json'],
        { 'bad.yaml': 'a: [', 'i.json': '{}' },
        /bad\.yaml: is not valid YAML/,
      ],
      [
        ['--policies', 'p.json', '--inquiry', 'missing.json'],
        { 'p.json': '[]' },
        /cannot read the inquiry file missing\.json/,
      ],
      [
        ['--policies', 'p.json', '--inquiries', 'q.jsonl'],
        { 'p.json': '[]', 'q.jsonl': '{}\n{oops' },
        /q\.jsonl:2: not valid JSON/,
      ],
      [
        ['--policies', 'p.json', '--inquiry', 'i.json'],
        { 'p.json': '[]', 'i.json': '{"subjct": 1}' },
        /unknown inquiry field "subjct" \(did you mean subject\?\)/,
      ],
      [
        ['--policies', 'p.json', '--checker', 'fast', '--inquiry', 'i.json'],
        { 'p.json': '[]', 'i.json': '{}' },
        /unknown checker "fast"/,
      ],
      [['--inquiry', 'i.json'], {}, /--policies FILE is required/],
      [['--policies', 'p.json'], { 'p.json': '[]' }, /exactly one of --inquiry/],
      [['--polices', 'p.json'], {}, /unknown option --polices \(did you mean --policies\?\)/],
    ];
    for (const [args, files, message] of cases) {
      const run = io(files);
      expect(await runCli(['authorize', ...args], run.io), args.join(' ')).to.equal(2);
      expect(run.err).to.have.length(1);
      expect(run.err[0])
        .to.match(message)
        .and.match(/^portcullis authorize: /);
      expect(run.out).to.deep.equal([]);
    }
  });
});

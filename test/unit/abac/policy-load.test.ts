// Loading many policies: equal rules and fields are shared, nothing of the source JSON is kept, the heap
// per policy stays bounded, and the index stays exact through adds, replacements and deletes.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { allow, deny } from '../../../src/abac/policy.js';
import {
  createRuleRegistry,
  defineRule,
  parsePolicies,
  PolicyFileError,
  policyFromJSON,
  PolicySet,
  rules,
  type Policy,
} from 'portcullis';
import { createChecker, policyMatches } from '../../../src/abac/checkers.js';
import { normalizeInquiry } from '../../../src/abac/inquiry.js';
import { COMPILED } from '../../../src/abac/policy.js';
import { prng } from '../../support/prng.js';

const { Eq, In, StartsWith, Any, Or, And, Greater } = rules;

/** The bench's rule-based policy (vakt's scenario): a unique user and resource prefix, shared rest. */
function benchPolicyJson(i: number) {
  return {
    uid: `rule-${i}`,
    effect: 'allow',
    subjects: [{ name: { type: 'Eq', value: `user${i}` }, level: { type: 'GreaterOrEqual', value: i % 10 } }],
    actions: [{ type: 'In', values: ['read', 'get'] }],
    resources: [{ type: 'StartsWith', value: `repos/org${i}/`, ci: false }],
    context: { ip: { type: 'CIDR', cidr: '10.0.0.0/8' } },
  };
}

describe('abac policy loading', function () {
  it('shares one compiled rule per distinct rule, however many distinct rules load in between', function () {
    this.timeout(60_000);
    const first = policyFromJSON(benchPolicyJson(0));
    // 60 000 distinct rules (a user and a prefix per policy) pass through the interning table.
    const loaded = parsePolicies(JSON.stringify(Array.from({ length: 30_000 }, (_, i) => benchPolicyJson(i + 1))));
    const last = loaded[loaded.length - 1]!;
    expect(last.actions[0]).to.equal(first.actions[0]);
    expect(last.context.ip).to.equal(first.context.ip);
    const level = (p: Policy) => (p.subjects[0] as Record<string, unknown>).level;
    expect(level(loaded[9]!)).to.equal(level(first));
    expect(new Set(loaded.map((p) => p.actions[0])).size).to.equal(1);
    // A field holding only that rule is one list for every such policy.
    expect(last.actions).to.equal(first.actions);
    expect(Object.isFrozen(last.actions)).to.equal(true);
  });

  it('rules built in code and from JSON are the same instance; built rules keep their type and arguments', function () {
    const fromJson = policyFromJSON({ uid: 'a', effect: 'allow', actions: [{ type: 'In', values: ['read', 'get'] }] });
    const inCode = allow({ uid: 'b', actions: [In('read', 'get')] });
    expect(inCode.actions[0]).to.equal(fromJson.actions[0]);
    const rule = And(Greater(1), Eq('x'));
    expect(rule.type).to.equal('And');
    expect((rule.args.rules as unknown[]).map((r) => (r as { type: string }).type)).to.deep.equal(['Greater', 'Eq']);
    expect(Object.keys(rule)).to.deep.equal(['args']);
    expect(Object.isFrozen(rule)).to.equal(true);
    expect(rule.toJSON()).to.deep.equal({
      type: 'And',
      rules: [
        { type: 'Greater', value: 1 },
        { type: 'Eq', value: 'x' },
      ],
    });
    expect(rule.hint).to.deep.equal({ exact: ['x'], prefixes: [] });
  });

  it('shares a one-attribute map and its field list between policies, and keeps them immutable', function () {
    const json = (uid: string, role: string) => ({
      uid,
      effect: 'allow',
      subjects: [{ role: { type: 'Eq', value: role } }],
      resources: [{ kind: { type: 'Eq', value: 'Repo' }, owner: { type: 'Eq', value: uid } }],
      context: { ip: { type: 'CIDR', cidr: '10.0.0.0/8' } },
    });
    const [a, b, c] = [
      policyFromJSON(json('a', 'admin')),
      policyFromJSON(json('b', 'admin')),
      policyFromJSON(json('c', 'dev')),
    ];
    expect(b.subjects).to.equal(a.subjects);
    expect(b.subjects[0]).to.equal(a.subjects[0]);
    expect(b.context).to.equal(a.context);
    expect(c.subjects[0]).to.not.equal(a.subjects[0]);
    expect(b.resources[0]).to.not.equal(a.resources[0]);
    expect(Object.isFrozen(a.subjects) && Object.isFrozen(a.subjects[0]) && Object.isFrozen(a.context)).to.equal(true);
    // A shared map built in code is the same one read from JSON.
    expect(allow({ uid: 'd', subjects: [{ role: Eq('admin') }] }).subjects[0]).to.equal(a.subjects[0]);
  });
  it('shares rules whose JSON is equal, and never one whose values JSON cannot hold exactly', function () {
    // Interning once went by JSON text, where NaN and Infinity print as null: Eq(NaN) became Eq(null).
    const nullRule = Eq(null);
    expect(() => Eq(NaN)).to.throw(/must be finite/);
    expect(() => In(1, null, Infinity)).to.throw(/must be finite/);
    expect(In(1, null)).to.equal(In(1, null));
    expect(Eq(null)).to.equal(nullRule);
    // Equal JSON, whether the nested rule was built in code or read: one rule; other values, others.
    const nested = policyFromJSON({
      uid: 'n',
      effect: 'allow',
      actions: [{ type: 'Not', rule: { type: 'Eq', value: 'x' } }],
      resources: [{ type: 'Or', rules: [{ type: 'In', values: ['a', ['b', { c: 1 }]] }] }],
    });
    expect(rules.Not(Eq('x'))).to.equal(nested.actions[0]);
    expect(Or(In('a', ['b', { c: 1 }]))).to.equal(nested.resources[0]);
    expect(Or(In('a', ['b', { c: 2 }]))).to.not.equal(nested.resources[0]);
    expect(Or(In('a', ['b'], { c: 1 }))).to.not.equal(nested.resources[0]);
    expect(In('1')).to.not.equal(In(1));
    expect(In(true)).to.not.equal(In(1));
    expect(Eq([])).to.not.equal(Eq({}));
    // A rule object of its own whose toJSON builds rules while its parent is being interned.
    let built = 0;
    class Reentrant {
      readonly type = 'Reentrant';
      readonly args = {};
      readonly hint = undefined;
      satisfied() {
        return true;
      }
      toJSON() {
        Eq(`inner-${++built}`);
        Eq(`inner-${++built}`);
        return { type: 'Eq', value: 'reentrant' };
      }
    }
    Object.defineProperty(Reentrant.prototype, Symbol.for('portcullis.abac.rule'), { value: true });
    const reentrant = new Reentrant() as unknown as Parameters<typeof rules.Not>[0];
    const outer = rules.Not(reentrant);
    expect(outer.type).to.equal('Not');
    expect(built).to.be.above(0);
    for (let i = 1; i <= built; i++)
      expect(Eq(`inner-${i}`).toJSON()).to.deep.equal({ type: 'Eq', value: `inner-${i}` });
    expect(rules.Not(Eq('reentrant'))).to.equal(outer);
    // Long rules are read as usual, only not shared.
    const many = Array.from({ length: 2000 }, (_, i) => `value-${i}`);
    expect(In(...many).args.values).to.deep.equal(many);
  });

  it('keeps no object of the source JSON in a loaded policy', function () {
    const source = benchPolicyJson(7);
    const sourceObjects = new Set<object>();
    const collect = (value: unknown) => {
      if (typeof value !== 'object' || value === null) return;
      sourceObjects.add(value);
      for (const child of Object.values(value)) collect(child);
    };
    collect(source);
    const loaded = policyFromJSON(source);
    const seen = new Set<object>();
    const walk = (value: unknown) => {
      if (typeof value !== 'object' || value === null || seen.has(value)) return;
      seen.add(value);
      expect(sourceObjects.has(value), 'an object of the source JSON').to.equal(false);
      for (const key of Reflect.ownKeys(value)) walk((value as Record<PropertyKey, unknown>)[key]);
      if ('args' in value) walk((value as { args: unknown }).args);
    };
    walk(loaded);
    expect(seen.size).to.be.above(8);
  });

  it('holds at most 1 KB of heap per policy for the bench policies, index included', function () {
    this.timeout(120_000);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const n = 20_000;
    // Distinct from the other tests' users, so nothing loaded earlier is shared.
    const text = JSON.stringify(Array.from({ length: n }, (_, i) => benchPolicyJson(1_000_000 + i)));
    gc();
    const before = process.memoryUsage().heapUsed;
    const set = new PolicySet(parsePolicies(text));
    gc();
    const perPolicy = (process.memoryUsage().heapUsed - before) / n;
    expect(set.size).to.equal(n);
    expect(perPolicy, `${Math.round(perPolicy)} bytes per policy`).to.be.below(1024);
  });

  it('compiles a custom rule at load, so its mistakes still refuse the policy', function () {
    const registry = createRuleRegistry();
    defineRule(
      {
        type: 'Picky',
        parse: (fields) => ({ value: fields.value }),
        compile: ({ value }) => {
          if (value === 'bad') throw new Error('Picky cannot take "bad"');
          return (what) => what === value;
        },
      },
      registry,
    );
    expect(() =>
      policyFromJSON({ uid: 'p', effect: 'allow', actions: [{ type: 'Picky', value: 'bad' }] }, { registry }),
    ).to.throw(/actions\[0\].*Picky cannot take "bad"/);
    const ok = policyFromJSON({ uid: 'p', effect: 'allow', actions: [{ type: 'Picky', value: 'x' }] }, { registry });
    expect(policyMatches(createChecker('rules'), ok, normalizeInquiry({ subject: 's', action: 'x', resource: 'r' }))).to
      .be.false;
  });

  it('reads JSON lines one at a time, naming the line (blank lines counted) of one that is not JSON', function () {
    const line = (uid: string) => JSON.stringify({ uid, effect: 'allow', actions: ['read'] });
    expect(parsePolicies(`${line('a')}\n\n${line('b')}\r\n`, { format: 'jsonl' }).map((p) => p.uid)).to.deep.equal([
      'a',
      'b',
    ]);
    expect(() => parsePolicies(`${line('a')}\n\n{oops`, { source: 'p.jsonl' })).to.throw(
      PolicyFileError,
      /p\.jsonl: is not valid JSON lines: line 3: /,
    );
    // Without a format, text that is neither JSON nor JSON lines is read as YAML.
    expect(parsePolicies('- uid: y\n  effect: allow\n  actions: [read]\n').map((p) => p.uid)).to.deep.equal(['y']);
  });

  it('indexes an attribute map under its most selective attribute', function () {
    const set = new PolicySet();
    for (let i = 0; i < 100; i++) {
      set.add(
        allow({
          uid: `p${i}`,
          subjects: [Any()],
          actions: [Any()],
          resources: [{ kind: Eq('Doc'), owner: Eq(`o${i}`) }],
        }),
      );
    }
    const inquiry = normalizeInquiry({ subject: 's', action: 'read', resource: { kind: 'Doc', owner: 'o42' } });
    // The first policy had nothing to tell its attributes apart and went under its kind.
    expect(set.candidates(inquiry, createChecker('rules')).map((p) => p.uid)).to.deep.equal(['p0', 'p42']);
    set.delete('p42');
    set.delete('p0');
    expect(set.candidates(inquiry, createChecker('rules'))).to.deep.equal([]);
  });

  it('keeps the index exact through random adds, replacements and deletes', function () {
    const random = prng(18);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const words = ['a', 'ab', 'abc', 'b', 'ba', 'x'];
    const element = () => {
      switch (Math.floor(random() * 6)) {
        case 0:
          return Eq(pick(words));
        case 1:
          return StartsWith(pick(words));
        case 2:
          return In(pick(words), pick(words));
        case 3:
          return Or(Eq(pick(words)), StartsWith(pick(words)));
        case 4:
          return { name: StartsWith(pick(words)), id: Eq(pick(words)) };
        default:
          return Any();
      }
    };
    const build = (uid: string) =>
      (random() < 0.2 ? deny : allow)({
        uid,
        subjects: [element()],
        actions: [element(), ...(random() < 0.3 ? [element()] : [])],
        resources: [element()],
      });
    const set = new PolicySet();
    const live = new Map<string, Policy>();
    const checker = createChecker('rules');
    for (let step = 0; step < 2000; step++) {
      const uid = `p${Math.floor(random() * 60)}`;
      const roll = random();
      if (roll < 0.5) {
        const p = build(uid);
        set.put(p);
        live.set(uid, p);
      } else if (roll < 0.7) {
        expect(set.delete(uid)).to.equal(live.delete(uid));
      } else {
        const value = () => (random() < 0.3 ? { name: pick(words), id: pick(words) } : pick(words));
        const inquiry = normalizeInquiry({ subject: value(), action: value(), resource: value() });
        const expected = [...live.values()].filter((p) => policyMatches(checker, p, inquiry)).map((p) => p.uid);
        const candidates = set.candidates(inquiry, checker);
        expect(new Set(candidates.map((p) => p.uid)).size, 'each candidate once').to.equal(candidates.length);
        const got = candidates.filter((p) => policyMatches(checker, p, inquiry)).map((p) => p.uid);
        expect(got.sort()).to.deep.equal(expected.sort());
      }
    }
    // Everything deleted: no candidate is left behind in any bucket.
    for (const uid of [...live.keys()]) set.delete(uid);
    const anything = normalizeInquiry({ subject: { name: 'abc', id: 'a' }, action: 'abc', resource: 'ab' });
    expect(set.candidates(anything, checker)).to.deep.equal([]);
    expect(set.size).to.equal(0);
    expect(COMPILED in allow({ uid: 'z' })).to.equal(true);
  });
});

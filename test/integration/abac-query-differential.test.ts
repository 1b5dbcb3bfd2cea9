// Generated rule-based policies over generated records: for every record, guard.decide() allows it exactly
// when it is in the result of guard.queryFor() — as an in-memory predicate and as a MongoDB-compatible query.
import { expect } from 'chai';
import type { Collection, Document } from 'mongodb';
import { Guard, policy, resourceOf, rules, type Policy, type Rule } from '../../src/abac/index.js';
import { toMongoFilter, toPredicate } from '../../src/filter/index.js';
import { sharedMongo, uniqueName } from '../support/connections.js';
import { prng } from '../support/prng.js';

const SEED = Number(process.env.QUERY_SEED ?? 20261205);
const CASES = Number(process.env.QUERY_CASES ?? 250);
const RECORDS = 80;

const random = prng(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const chance = (p: number) => random() < p;

const FIELDS = ['country', 'age', 'owner', 'tags', 'status', 'flag', 'score', 'kind'] as const;
const STRINGS = ['DE', 'FR', 'US', '', 'a', 'ab', 'b', 'u1', 'u2', 'open', 'accounts'];
/** Attributes known in advance (laid over each record): none, or the kind. */
const KNOWN: Record<string, unknown>[] = [{}, {}, { kind: 'accounts' }, { kind: 'invoices', country: 'DE' }];
const NUMBERS = [0, 1, 2, 5, -1, 2.5, 18];
const PRIMITIVES: unknown[] = [...STRINGS, ...NUMBERS, true, false, null];
const SUBJECTS = [
  { id: 'u1', role: 'analyst', countries: ['DE', 'FR'], country: 'DE', level: 2 },
  { id: 'u2', role: 'support', countries: ['US', 1, true, null], country: 'US', level: 0 },
  { id: 'u3', role: 'analyst', countries: [], country: 'FR' },
];
const ACTIONS = ['read', 'list', 'update'];
const CONTEXTS = [{ user: 'u1', level: 3 }, { user: 'u2' }, {}];

function value(): unknown {
  return pick(PRIMITIVES);
}

/** A rule for an attribute value; `depth` bounds nesting. Mostly rules with a filter form, a few without. */
function rule(depth: number): Rule {
  const roll = random();
  if (depth < 2 && roll < 0.16) {
    const kind = pick(['Not', 'And', 'Or'] as const);
    if (kind === 'Not') return rules.Not(rule(depth + 1));
    const parts = Array.from({ length: Math.floor(random() * 3) }, () => rule(depth + 1));
    return kind === 'And' ? rules.And(...parts) : rules.Or(...parts);
  }
  switch (
    pick([
      'Eq',
      'Eq',
      'NotEq',
      'Greater',
      'Less',
      'GreaterOrEqual',
      'LessOrEqual',
      'In',
      'In',
      'NotIn',
      'AnyIn',
      'Equal',
      'StartsWith',
      'Contains',
      'SubjectMatch',
      'InSubject',
      'InSubject',
      'Any',
      'Neither',
      'ActionEqual',
      'SubjectEqual',
      'RegexMatch',
      'AllIn',
      'Truthy',
    ] as const)
  ) {
    case 'Eq':
      return rules.Eq(value());
    case 'NotEq':
      return rules.NotEq(value());
    case 'Greater':
      return rules.Greater(pick([...NUMBERS, 'b', true]) as number);
    case 'Less':
      return rules.Less(pick([...NUMBERS, 'b', false]) as number);
    case 'GreaterOrEqual':
      return rules.GreaterOrEqual(pick([...NUMBERS, 'ab']) as number);
    case 'LessOrEqual':
      return rules.LessOrEqual(pick([...NUMBERS, 'ab']) as number);
    case 'In':
      return rules.In(...Array.from({ length: Math.floor(random() * 4) }, value));
    case 'NotIn':
      return rules.NotIn(...Array.from({ length: Math.floor(random() * 3) }, value));
    case 'AnyIn':
      return rules.AnyIn(...Array.from({ length: 1 + Math.floor(random() * 3) }, value));
    case 'Equal':
      return rules.Equal(pick(STRINGS));
    case 'StartsWith':
      return rules.StartsWith(pick(STRINGS));
    case 'Contains':
      return rules.Contains(pick(STRINGS));
    case 'SubjectMatch':
      return rules.SubjectMatch(pick(['country', 'id', 'level', 'missing']));
    case 'InSubject':
      return rules.InSubject(pick(['countries', 'countries', 'country']));
    case 'Any':
      return rules.Any();
    case 'Neither':
      return rules.Neither();
    case 'ActionEqual':
      return rules.ActionEqual();
    case 'SubjectEqual':
      return rules.SubjectEqual();
    case 'RegexMatch':
      return rules.RegexMatch('D');
    case 'AllIn':
      return rules.AllIn('DE', 'FR');
    case 'Truthy':
      return rules.Truthy();
  }
}

function attributes(count: number): Record<string, Rule> {
  const out: Record<string, Rule> = {};
  for (let i = 0; i < count; i++) out[pick(FIELDS)] = rule(0);
  return out;
}

function generatePolicy(uid: number): Policy {
  const subjects = chance(0.3)
    ? [rules.Any()]
    : chance(0.2)
      ? [
          pick<Record<string, Rule>>([
            { id: rules.ResourceMatch('owner') },
            { country: rules.ResourceMatch('country') },
          ]),
        ]
      : [{ role: rules.Eq(pick(['analyst', 'support'])) }];
  const actions = chance(0.3) ? [rules.Any()] : [rules.In(...ACTIONS.filter(() => chance(0.6)))];
  const resources = Array.from({ length: Math.floor(random() * 3) }, () =>
    chance(0.15)
      ? pick([rules.Any(), rules.Neither(), rules.Eq('x'), rules.Truthy(), rules.In('a')])
      : {
          ...attributes(1 + Math.floor(random() * 2)),
          ...(chance(0.25) ? { kind: rules.Eq(pick(['accounts', 'invoices'])) } : {}),
        },
  );
  const context: Record<string, Rule> = {};
  if (chance(0.15)) context.user = rules.ResourceMatch('owner');
  if (chance(0.1)) context.level = pick([rules.Greater(1), rules.Greater('a'), rules.Eq(3)]);
  return policy({ uid, effect: chance(0.35) ? 'deny' : 'allow', subjects, actions, resources, context });
}

function fieldValue(): unknown {
  const roll = random();
  if (roll < 0.12) return undefined;
  if (roll < 0.2) return null;
  if (roll < 0.35) return Array.from({ length: Math.floor(random() * 3) }, () => pick(PRIMITIVES));
  if (roll < 0.38) return { nested: 1 };
  return pick(PRIMITIVES);
}

function generateRecords(): Record<string, unknown>[] {
  return Array.from({ length: RECORDS }, (_, index) => {
    const record: Record<string, unknown> = { id: `r${index}` };
    for (const field of FIELDS) {
      const v = fieldValue();
      if (v !== undefined) record[field] = v;
    }
    return record;
  });
}

describe('guard.queryFor agrees with guard.decide (generated policies and records)', function () {
  this.timeout(120_000);
  let collection: Collection<Document>;
  const records = generateRecords();

  before(async () => {
    const connection = await sharedMongo();
    collection = connection.db!.collection(uniqueName('abac_query'));
    await collection.insertMany(records.map((record, index) => ({ _id: index as never, ...record })));
  });

  after(async () => {
    await collection?.drop().catch(() => undefined);
  });

  it(`on the memory predicate and on MongoDB/FerretDB (seed ${SEED}, ${CASES} policy sets × ${RECORDS} records)`, async () => {
    let exact = 0;
    let conditions = 0;
    for (let c = 0; c < CASES; c++) {
      const policies = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => generatePolicy(i));
      const guard = new Guard({ policies });
      const subject = pick(SUBJECTS);
      const action = pick(ACTIONS);
      const context = pick(CONTEXTS);
      const known = pick(KNOWN);
      const query = guard.queryFor(subject, action, known, context);
      const matches = toPredicate(query.filter);
      const allowed = records.map(
        (record) => guard.decideSync({ subject, action, resource: resourceOf(known, record), context }).allowed,
      );
      const where = `case ${c} (seed ${SEED}): ${JSON.stringify(policies.map((p) => p.uid))} ${JSON.stringify(subject)} ${action} ${JSON.stringify(context)} known ${JSON.stringify(known)}\nfilter ${JSON.stringify(query.filter)}`;
      if (query.unfilterable.length > 0) {
        // A superset: every allowed record is in it.
        records.forEach((record, i) => {
          if (allowed[i]) expect(matches(record), `${where}\nrecord ${JSON.stringify(record)}`).to.equal(true);
        });
        continue;
      }
      exact++;
      if (query.kind === 'condition') conditions++;
      const expected = records.filter((_, i) => allowed[i]).map((record) => record.id);
      const inMemory = records.filter((record) => matches(record)).map((record) => record.id);
      expect(inMemory, `${where}\n(memory)`).to.deep.equal(expected);
      const found = await collection.find(toMongoFilter(query.filter)).sort({ _id: 1 }).toArray();
      expect(
        found.map((document) => document.id),
        `${where}\nmongo ${JSON.stringify(toMongoFilter(query.filter))}`,
      ).to.deep.equal(expected);
    }
    console.log(`      exact ${exact}/${CASES}, conditions ${conditions}`);
    // Not vacuous: most sets reduce to an exact filter, many to a real condition.
    expect(exact).to.be.greaterThan(CASES * 0.5);
    expect(conditions).to.be.greaterThan(CASES * 0.15);
  });

  it('string-based policies (regex, exact, fuzzy checkers): one answer for every record, as decide() gives', () => {
    const strings = ['ana', '<a.*>', 'read', '<read|list>', 'accounts', '<.*>', '', '<[a-z]+>'];
    for (let c = 0; c < 120; c++) {
      const checker = pick(['regex', 'exact', 'fuzzy'] as const);
      const policies = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, uid) =>
        policy({
          uid,
          effect: chance(0.3) ? 'deny' : 'allow',
          subjects: [pick(strings)],
          actions: [pick(strings)],
          resources: [pick(strings)],
        }),
      );
      const guard = new Guard({ policies, checker });
      const subject = pick(['ana', 'bob', { id: 'ana' }]);
      const action = pick(['read', 'list']);
      const query = guard.queryFor(subject, action, {});
      expect(query.kind).to.be.oneOf(['always', 'never']);
      for (const record of records) {
        expect(guard.decideSync({ subject, action, resource: record }).allowed, `case ${c} ${checker}`).to.equal(
          query.kind === 'always',
        );
      }
    }
  });
});

// guard.queryFor: policies partially evaluated into the filter language (always / never / a condition).
import { expect } from 'chai';
import { Guard, policy, rules, type Policy } from '../../../src/abac/index.js';
import { toMongoFilter, toPredicate } from '../../../src/filter/index.js';

const analyst = { id: 'ana', role: 'analyst', countries: ['DE', 'FR'] };

function allowAll(extra: Partial<Parameters<typeof policy>[0]> = {}): Policy {
  return policy({
    uid: 'all',
    effect: 'allow',
    subjects: [rules.Any()],
    actions: [rules.Any()],
    resources: [rules.Any()],
    ...extra,
  });
}

describe('guard.queryFor', () => {
  it('turns "country in the subject’s countries" into an $in filter with the subject’s values', () => {
    const guard = new Guard({
      policies: [
        policy({
          uid: 'analysts-read-their-countries',
          effect: 'allow',
          subjects: [{ role: rules.Eq('analyst') }],
          actions: [rules.Eq('accounts:read')],
          resources: [{ country: rules.InSubject('countries') }],
        }),
      ],
    });
    const query = guard.queryFor(analyst, 'accounts:read', {});
    expect(query.kind).to.equal('condition');
    expect(query.unfilterable).to.deep.equal([]);
    expect(toMongoFilter(query.filter)).to.deep.equal({ country: { $in: ['DE', 'FR'], $not: { $type: 'array' } } });
    const matches = toPredicate(query.filter);
    expect(matches({ country: 'DE' })).to.equal(true);
    expect(matches({ country: 'US' })).to.equal(false);
    expect(matches({ country: ['DE'] })).to.equal(false);
    expect(matches({})).to.equal(false);
    // Everything known decides alone: another action or subject gives never.
    expect(guard.queryFor(analyst, 'accounts:delete', {}).kind).to.equal('never');
    expect(guard.queryFor({ ...analyst, role: 'support' }, 'accounts:read', {}).kind).to.equal('never');
  });

  it('subtracts deny policies and gives always when nothing depends on the resource', () => {
    const deny = policy({
      uid: 'no-closed',
      effect: 'deny',
      subjects: [rules.Any()],
      actions: [rules.Any()],
      resources: [{ status: rules.Eq('closed') }],
    });
    expect(new Guard({ policies: [allowAll()] }).queryFor(analyst, 'x', {}).kind).to.equal('always');
    const query = new Guard({ policies: [allowAll(), deny] }).queryFor(analyst, 'x', {});
    const matches = toPredicate(query.filter);
    expect(matches({ status: 'open' })).to.equal(true);
    expect(matches({})).to.equal(true);
    expect(matches({ status: 'closed' })).to.equal(false);
    // vakt's RulesChecker: ['closed'] is not equal to 'closed', so the deny does not apply to it.
    expect(matches({ status: ['closed'] })).to.equal(true);
  });

  it('makes ownership (subject.id = resource.owner) and Python equality (True == 1) explicit', () => {
    const guard = new Guard({
      policies: [
        allowAll({ uid: 'own', subjects: [{ id: rules.ResourceMatch('owner') }], resources: [{ level: rules.Eq(1) }] }),
      ],
    });
    const matches = toPredicate(guard.queryFor(analyst, 'read', {}).filter);
    expect(matches({ owner: 'ana', level: 1 })).to.equal(true);
    expect(matches({ owner: 'ana', level: true })).to.equal(true);
    expect(matches({ owner: 'bob', level: 1 })).to.equal(false);
    expect(matches({ owner: 'ana', level: '1' })).to.equal(false);
  });

  it('names the rules without a filter form and gives a superset filter', () => {
    const guard = new Guard({
      policies: [allowAll({ uid: 'regex', resources: [{ country: rules.RegexMatch('D'), status: rules.Eq('open') }] })],
    });
    const query = guard.queryFor(analyst, 'read', {});
    expect(query.unfilterable).to.have.length(1);
    expect(query.unfilterable[0]).to.include({ policy: 'regex', path: 'resources[0].country', rule: 'RegexMatch' });
    const matches = toPredicate(query.filter);
    expect(matches({ country: 'DE', status: 'open' })).to.equal(true);
    expect(matches({ country: 'US', status: 'open' })).to.equal(true);
    expect(matches({ country: 'DE', status: 'closed' })).to.equal(false);
  });

  it('reads known resource attributes from the resource argument', () => {
    const guard = new Guard({
      policies: [allowAll({ resources: [{ kind: rules.Eq('accounts'), age: rules.Greater(17) }] })],
    });
    expect(guard.queryFor(analyst, 'read', { kind: 'invoices' }).kind).to.equal('never');
    const matches = toPredicate(guard.queryFor(analyst, 'read', { kind: 'accounts' }).filter);
    expect(matches({ age: 18 })).to.equal(true);
    expect(matches({ age: 17 })).to.equal(false);
    expect(matches({ age: '18' })).to.equal(false);
  });

  it('an unfit context rule denies the whole decision, as decide() does', () => {
    const guard = new Guard({ policies: [allowAll({ context: { level: rules.Greater('a') } })] });
    expect(guard.queryFor(analyst, 'read', {}, { level: 3 }).kind).to.equal('never');
    expect(
      guard.decideSync({ subject: analyst, action: 'read', resource: { id: 1 }, context: { level: 3 } }).allowed,
    ).to.equal(false);
  });

  it('string-based policies never fit an object resource: one decision answers', () => {
    const guard = new Guard({
      checker: 'regex',
      policies: [policy({ uid: 's', effect: 'allow', subjects: ['<.*>'], actions: ['<.*>'], resources: ['<.*>'] })],
    });
    expect(guard.queryFor('ana', 'read', {}).kind).to.equal('never');
  });

  it('needs in-memory policies and an object of known resource attributes', () => {
    const store = { findForInquiry: async () => [] } as never;
    expect(() => new Guard({ policies: store }).queryFor(analyst, 'read', {})).to.throw(TypeError, /PolicyMirror/);
    expect(() => new Guard({ policies: [] }).queryFor(analyst, 'read', 'accounts' as never)).to.throw(TypeError);
  });
});

// guard.queryFor in a few lines: "analysts read accounts of their own countries, never closed ones" as a
// filter. Run: npx tsx examples/abac-query-for.ts
import { Guard, policy, rules, toMongoFilter, toPredicate } from 'portcullis';

const guard = new Guard({
  policies: [
    policy({
      uid: 'analysts-read-their-countries',
      effect: 'allow',
      subjects: [{ role: rules.Eq('analyst') }],
      actions: [rules.In('accounts:list', 'accounts:read')],
      resources: [{ country: rules.InSubject('countries') }],
    }),
    policy({
      uid: 'closed-accounts-are-admin-only',
      effect: 'deny',
      subjects: [{ role: rules.NotEq('admin') }],
      actions: [rules.Any()],
      resources: [{ status: rules.Eq('closed') }],
    }),
  ],
});

const ana = { id: 'ana', role: 'analyst', countries: ['DE', 'FR'] };
const query = guard.queryFor(ana, 'accounts:list', {}, { ip: '10.0.0.7' });
const accounts = [
  { id: 'a1', country: 'DE', status: 'active' },
  { id: 'a2', country: 'DE', status: 'closed' },
  { id: 'a3', country: 'US', status: 'active' },
];
const matches = toPredicate(query.filter);

console.log(query.kind); // condition
console.log(query.unfilterable); // [] — the filter is exact
console.log(JSON.stringify(toMongoFilter(query.filter))); // what collection.find() takes
console.log(accounts.filter((account) => matches(account)).map((account) => account.id)); // [ 'a1' ]
// The same answer as deciding record by record:
console.log(
  accounts
    .filter((resource) =>
      guard.isAllowed({ subject: ana, action: 'accounts:list', resource, context: { ip: '10.0.0.7' } }),
    )
    .map((account) => account.id),
); // [ 'a1' ]

// guard.queryFor per second: "users read accounts of their own countries above their level", N policies
// (one per user), partially evaluated for one user into a filter. A section of bench/abac-decisions.ts;
// alone: npx tsx bench/abac-query-for.ts [--sizes 1000,10000,100000] [--seconds 1]
import { Guard, policy, PolicySet, rules, toMongoFilter, type Policy } from 'portcullis';

const { Eq, In, InSubject, GreaterOrEqual, NotEq } = rules;

function accountPolicy(i: number): Policy {
  return policy({
    uid: `accounts-${i}`,
    effect: 'allow',
    subjects: [{ name: Eq(`user${i}`) }],
    actions: [In('accounts:list', 'accounts:read')],
    resources: [{ country: InSubject('countries'), level: GreaterOrEqual(i % 10) }],
  });
}

const closedDeny = policy({
  uid: 'closed-accounts-are-admin-only',
  effect: 'deny',
  subjects: [{ role: NotEq('admin') }],
  actions: [In('accounts:list', 'accounts:read')],
  resources: [{ status: Eq('closed') }],
});

/** Best of three rounds of `seconds / 3`, as the decision measurements. */
function perSecond(run: () => unknown, seconds: number): number {
  // Warm up until the JIT has settled (a quarter of a second), so the first size is not the slowest.
  const warm = performance.now();
  while (performance.now() - warm < 250) run();
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const deadline = started + (seconds * 1000) / 3;
    let count = 0;
    while (count < 64 || performance.now() < deadline) {
      run();
      count++;
    }
    best = Math.max(best, (count / (performance.now() - started)) * 1000);
  }
  return best;
}

const fmt = (value: number) => (value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1));

export function queryForSection(sizes: readonly number[], seconds: number): void {
  console.log('== guard.queryFor: one allow policy per user plus one deny, partially evaluated for one user ==');
  for (const n of sizes) {
    const set = new PolicySet([...Array.from({ length: n }, (_, i) => accountPolicy(i)), closedDeny]);
    const guard = new Guard({ policies: set });
    const subject = { name: `user${n >> 1}`, role: 'analyst', countries: ['DE', 'FR'] };
    const context = { ip: '10.0.0.7', time: 0 };
    const query = guard.queryFor(subject, 'accounts:list', {}, context);
    const rate = perSecond(() => guard.queryFor(subject, 'accounts:list', {}, context), seconds);
    const decisions = perSecond(
      () => guard.isAllowed({ subject, action: 'accounts:list', resource: { country: 'DE', level: 9 }, context }),
      seconds,
    );
    console.log(
      `  N = ${n.toLocaleString('en-US').padStart(7)}: ${fmt(rate).padStart(9)} queries/s (${fmt(1e6 / rate)} µs; ` +
        `a decision on one record: ${fmt(1e6 / decisions)} µs) → ${query.kind} ${JSON.stringify(toMongoFilter(query.filter))}`,
    );
  }
  console.log();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: string) => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 && args[index + 1] ? args[index + 1]! : fallback;
  };
  queryForSection(option('sizes', '1000,10000,100000').split(',').map(Number), Number(option('seconds', '1')));
}

// Querystring → MongoDB filter compile throughput: Portcullis (typed, validated, injection-safe) beside
// api-query-params on equivalent realistic queries. Run: npx tsx bench/filter-compile.ts
import aqp from 'api-query-params';
import { createQueryCompiler, type SchemaInput } from 'portcullis';

const schema: SchemaInput = {
  name: 'string',
  email: 'string',
  status: 'string',
  age: 'number',
  balance: 'number',
  country: 'string',
  tags: 'string[]',
  createdAt: 'date',
  active: 'boolean',
};

// The same question in each library's syntax. api-query-params types values by guessing; Portcullis by schema.
const queries: [portcullis: string, apiQueryParams: string][] = [
  ['status=active&sort=-createdAt&limit=20', 'status=active&sort=-createdAt&limit=20'],
  ['age__gt=30&country=NO&sort=name&limit=50', 'age>30&country=NO&sort=name&limit=50'],
  [
    'status__in=["active","new"]&balance__gte=100&fields=name,email',
    'status=active,new&balance>=100&fields=name,email',
  ],
  ['name__startswith=Jo&active=true&sort=-age,name', 'name=/^Jo/&active=true&sort=-age,name'],
  ['age__between=[18,65]&country__ne=SE&limit=10', 'age>=18&age<=65&country!=SE&limit=10'],
  ['email__exists=true&tags=vip&sort=-balance', 'email&tags=vip&sort=-balance'],
  [
    'createdAt__gte=2024-01-01&status__notin=["closed"]&limit=100',
    'createdAt>=2024-01-01T00:00:00Z&status!=closed&limit=100',
  ],
  [
    'name=Ada%20Lovelace&country=GB&age__lt=40&balance__gt=0&sort=name&limit=25',
    'name=Ada%20Lovelace&country=GB&age<40&balance>0&sort=name&limit=25',
  ],
];

const compiler = createQueryCompiler({ schema, cursorSecret: 'bench-cursor-secret-of-32-characters!' });

type Run = (i: number) => { filter?: unknown };

// Runs each contender in alternating rounds (the machine is shared, load varies) and keeps the median.
function measureAll(contenders: [string, Run][], rounds = 7, roundMs = 400): number[] {
  for (const [, run] of contenders) for (let i = 0; i < 20_000; i++) run(i);
  const samples: number[][] = contenders.map(() => []);
  let sink = 0;
  for (let round = 0; round < rounds; round++) {
    contenders.forEach(([, run], index) => {
      let ops = 0;
      const start = performance.now();
      let elapsed = 0;
      while (elapsed < roundMs) {
        for (let i = 0; i < 1000; i++) if (run(ops + i).filter) sink++;
        ops += 1000;
        elapsed = performance.now() - start;
      }
      samples[index]!.push((ops / elapsed) * 1000);
    });
  }
  const medians = samples.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!);
  contenders.forEach(([label], index) => {
    const text = Math.round(medians[index]!).toLocaleString('en-US').padStart(12);
    console.log(`${label.padEnd(44)} ${text} parses/s (median of ${rounds})${sink < 0 ? '!' : ''}`);
  });
  return medians;
}

// Sanity: both compile every query, and Portcullis's filters are what they should be.
for (const [ours, theirs] of queries) {
  const compiled = compiler.compile(ours);
  void compiled.filter;
  aqp(theirs);
}

console.log(`querystring → filter, ${queries.length} mixed queries, node ${process.version}`);
const [portcullis, peer, withPredicate] = measureAll([
  [
    'portcullis compile (typed, validated)',
    (i) => {
      const query = compiler.compile(queries[i % queries.length]![0]);
      return { filter: query.filter };
    },
  ],
  ['api-query-params', (i) => aqp(queries[i % queries.length]![1])],
  [
    'portcullis compile + in-memory predicate',
    (i) => {
      const query = compiler.compile(queries[i % queries.length]![0]);
      query.matches({ name: 'Ada', age: 30 });
      return { filter: query.filter };
    },
  ],
]);
console.log(`ratio portcullis / api-query-params: ${(portcullis! / peer!).toFixed(2)}x (goal >= 3x)`);
console.log(`ratio portcullis+predicate / api-query-params: ${(withPredicate! / peer!).toFixed(2)}x`);

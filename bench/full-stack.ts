// The demo's list endpoint under load with the whole stack, beside bare Express serving the same data
// from the same store kind: memory stores, then MongoDB + Redis (MONGODB_URI / REDIS_URL, else throwaway
// servers; --memory-only skips them).
// Run: npx tsx bench/full-stack.ts [seconds per round, default 10] [--memory-only]
// With COMPARE_TREE=<another checkout of Portcullis, with its node_modules> (e.g. `git worktree add /tmp/before
// main`), that tree's demo is loaded in the same rounds, right after this one's, and gets its own row.
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { startMongoServer, startRedisServer } from '../test/support/servers.js';
import { cpuSeconds, figure, login, start, startDemo, stop, type Started } from './full-stack-servers.js';

const seconds = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 10);
const compareTree = process.env.COMPARE_TREE;
const CONNECTIONS = 10;
const ROUNDS = 5;

interface Run {
  rps: number;
  p50: number;
  p99: number;
  /** The server's CPU time (user + system) per answered request, in µs; NaN without /proc (Linux only). */
  cpuPerRequest: number;
}

async function load(server: Started, url: string, headers: Record<string, string>, duration: number): Promise<Run> {
  const cpuBefore = cpuSeconds(server.child.pid);
  const result = await autocannon({ url, connections: CONNECTIONS, duration, headers });
  const cpu = cpuSeconds(server.child.pid) - cpuBefore;
  if (result.non2xx > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers ${JSON.stringify(result.statusCodeStats)}`);
  }
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuPerRequest: (cpu / result.requests.total) * 1e6,
  };
}

/** The run with the median requests/s. */
function median(runs: Run[]): Run {
  return [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
}

/** Both servers must answer the same records in the same order, or the comparison means nothing. */
async function sameRecords(...targets: { url: string; headers: Record<string, string> }[]): Promise<number> {
  const pages = await Promise.all(
    targets.map(async ({ url, headers }) => {
      const response = await fetch(url, { headers });
      const { items } = (await response.json()) as { items: { id: string }[] };
      return items.map((item) => item.id).join(',');
    }),
  );
  if (pages[0] !== pages[1] || !pages[0])
    throw new Error(`the two servers answer different pages: ${pages.join(' | ')}`);
  return pages[0].split(',').length;
}

async function scenario(name: string, env: Record<string, string>) {
  console.error(`[bench] ${name}`);
  const bare = await start('bench/full-stack-bare-server.ts', env);
  const demo = await startDemo(env);
  const token = await login(demo.base);
  const other = compareTree ? await startDemo(env, [], compareTree) : undefined;
  const otherTarget = other && {
    url: `${other.base}/accounts?limit=20&sort=-balance`,
    headers: { authorization: `Bearer ${await login(other.base)}` },
  };
  // The analyst's first page, richest first: 20 of the 22 accounts in her countries, the same records from
  // both servers (checked), masked and audited by the full stack only.
  const query = '/accounts?limit=20&sort=-balance';
  const bareTarget = { url: `${bare.base}${query}`, headers: {} };
  // The analyst's list: authenticate (JWT + session), rate limit, authorize (ABAC), permission filters,
  // the filter language, masking and an audit event per request.
  const fullTarget = { url: `${demo.base}${query}`, headers: { authorization: `Bearer ${token}` } };
  items = await sameRecords(bareTarget, fullTarget);
  if (otherTarget) await sameRecords(bareTarget, otherTarget);
  // Warm-ups so the JIT and connection pools settle, then alternating rounds: a machine whose load drifts
  // during the run affects both stacks alike, and the medians say more than any single run.
  await load(bare, bareTarget.url, bareTarget.headers, 2);
  await load(demo, fullTarget.url, fullTarget.headers, 2);
  if (other) await load(other, otherTarget!.url, otherTarget!.headers, 2);
  const bareRuns: Run[] = [];
  const fullRuns: Run[] = [];
  const otherRuns: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bareRuns.push(await load(bare, bareTarget.url, bareTarget.headers, seconds));
    fullRuns.push(await load(demo, fullTarget.url, fullTarget.headers, seconds));
    if (other) otherRuns.push(await load(other, otherTarget!.url, otherTarget!.headers, seconds));
    const [b, f, o] = [bareRuns.at(-1)!, fullRuns.at(-1)!, otherRuns.at(-1)];
    console.error(
      `[bench] round ${round + 1}: bare ${Math.round(b.rps)}, full ${Math.round(f.rps)} req/s (${(f.rps / b.rps).toFixed(2)}); ` +
        `server CPU bare ${figure(b.cpuPerRequest)}, full ${figure(f.cpuPerRequest)} µs/request` +
        (o ? `; COMPARE_TREE ${Math.round(o.rps)} req/s, CPU ${figure(o.cpuPerRequest)} µs/request` : ''),
    );
  }
  await stop(bare);
  await stop(demo);
  if (other) await stop(other);
  const cpuOf = (runs: Run[]) =>
    [...runs].map((run) => run.cpuPerRequest).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  // Each round's runs are neighbours in time: a ratio is the median of the rounds' ratios, for requests/s and
  // for CPU (bare's CPU per request over the stack's, 1 = as cheap as bare).
  const rowOf = (stack: string, runs: Run[]) => {
    const rounds = runs.map((run, index) => run.rps / bareRuns[index]!.rps).sort((a, b) => a - b);
    const cpus = runs.map((run, index) => bareRuns[index]!.cpuPerRequest / run.cpuPerRequest).sort((a, b) => a - b);
    return {
      stack,
      ...median(runs),
      ratio: rounds[Math.floor(rounds.length / 2)]!,
      range: `${rounds[0]!.toFixed(2)}–${rounds.at(-1)!.toFixed(2)}`,
      cpu: cpuOf(runs),
      cpuRatio: cpus[Math.floor(cpus.length / 2)]!,
    };
  };
  return [
    { stack: `bare Express (${name})`, ...median(bareRuns), ratio: 1, range: '', cpu: cpuOf(bareRuns), cpuRatio: 1 },
    rowOf(`full Portcullis stack (${name})`, fullRuns),
    ...(other ? [rowOf(`COMPARE_TREE's full stack (${name})`, otherRuns)] : []),
  ];
}

let items = 0;
const rows = [];
rows.push(...(await scenario('memory stores', { MONGODB_URI: '', REDIS_URL: '' })));

// FerretDB v1 (the server the test setup installs when mongod is absent) sorts in its own process and is
// far slower than MongoDB: its absolute figures say more about FerretDB than about Portcullis.
const withServers = !process.argv.includes('--memory-only');
const givenMongo = process.env.MONGODB_URI;
const givenRedis = process.env.REDIS_URL;
const mongo = withServers && !givenMongo ? await startMongoServer() : undefined;
const redis = withServers && !givenRedis ? await startRedisServer() : undefined;
if (withServers)
  try {
    rows.push(
      ...(await scenario('MongoDB + Redis', {
        MONGODB_URI: givenMongo ?? mongo!.url.replace('portcullis_test', 'portcullis_bench'),
        REDIS_URL: givenRedis ?? redis!.url,
        ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
        BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
      })),
    );
  } finally {
    await mongo?.stop();
    await redis?.stop();
  }

console.log(
  `\nGET /accounts?limit=20&sort=-balance (${items} items), ${CONNECTIONS} connections, median of ${ROUNDS} alternating ${seconds}s rounds, Node ${process.version}\n`,
);
console.log(
  '| stack | requests/s | p50 ms | p99 ms | ratio to bare (median of rounds) | range over rounds | server CPU µs/request (median) | bare CPU / this CPU (median of rounds) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  console.log(
    `| ${row.stack} | ${Math.round(row.rps)} | ${row.p50} | ${row.p99} | ${row.ratio.toFixed(2)} | ${row.range} | ${figure(row.cpu)} | ${figure(row.cpuRatio, 2)} |`,
  );
}

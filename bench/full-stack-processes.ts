// The full stack on MongoDB + Redis with one process, then two processes on the same stores: the demo's
// list endpoint as the analyst, the same connection count split over both processes' ports (two autocannon
// instances, as a round-robin balancer would), requests/s and the processes' CPU per request.
// Run: npx tsx bench/full-stack-processes.ts [seconds per round, default 8] [--rounds N, default 3] [--query PATH]
//      (uses MONGODB_URI / REDIS_URL when set, else starts throwaway FerretDB and Redis like the test run)
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { startMongoServer, startRedisServer } from '../test/support/servers.js';
import { cpuSeconds, figure, login, startDemo, stop, type Started } from './full-stack-servers.js';

const seconds = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 8);
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 3;
const CONNECTIONS = 10;
const queryArg = process.argv.indexOf('--query');
// The full-stack row's page by default; `--query '/accounts?limit=20'` for one FerretDB serves without a sort.
const QUERY = queryArg > 0 ? process.argv[queryArg + 1]! : '/accounts?limit=20&sort=-balance';

interface Run {
  rps: number;
  p50: number;
  p99: number;
  /** The Portcullis processes' CPU time (user + system) per answered request, in µs. */
  cpuPerRequest: number;
  /** The same for the MongoDB and Redis servers started here (NaN for servers given by URL). */
  storesCpuPerRequest: number;
}

// The store servers' CPU: with FerretDB it is most of the cost of a request, and bounds what a second
// Portcullis process can add.
const storesCpu = () => [mongo, redis].reduce((sum, server) => sum + (server?.pid ? cpuSeconds(server.pid()) : NaN), 0);

/** Loads every server at once, the connections split evenly between them; requests/s are summed. */
async function load(servers: Started[], token: string, duration: number): Promise<Run> {
  const cpuBefore = servers.map((server) => cpuSeconds(server.child.pid));
  const storesBefore = storesCpu();
  const results = await Promise.all(
    servers.map((server) =>
      autocannon({
        url: `${server.base}${QUERY}`,
        connections: CONNECTIONS / servers.length,
        duration,
        headers: { authorization: `Bearer ${token}` },
      }),
    ),
  );
  const cpu = servers.reduce((sum, server, index) => sum + cpuSeconds(server.child.pid) - cpuBefore[index]!, 0);
  for (const result of results) {
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(
        `${result.non2xx} non-2xx answers, ${result.errors} errors: ${JSON.stringify(result.statusCodeStats)}`,
      );
    }
  }
  const total = results.reduce((sum, result) => sum + result.requests.total, 0);
  return {
    rps: results.reduce((sum, result) => sum + result.requests.average, 0),
    // Latency of the slower half, so a second process that only moved the wait elsewhere shows.
    p50: Math.max(...results.map((result) => result.latency.p50)),
    p99: Math.max(...results.map((result) => result.latency.p99)),
    cpuPerRequest: (cpu / total) * 1e6,
    storesCpuPerRequest: ((storesCpu() - storesBefore) / total) * 1e6,
  };
}

const middle = <T>(values: T[], by: (value: T) => number): T =>
  [...values].sort((a, b) => by(a) - by(b))[Math.floor(values.length / 2)]!;

const givenMongo = process.env.MONGODB_URI;
const givenRedis = process.env.REDIS_URL;
const mongo = givenMongo ? undefined : await startMongoServer();
const redis = givenRedis ? undefined : await startRedisServer();
// What every process of a deployment shares (docs/deployment.md): the stores and the secrets.
const env = {
  MONGODB_URI: givenMongo ?? mongo!.url.replace('portcullis_test', 'portcullis_bench_processes'),
  REDIS_URL: givenRedis ?? redis!.url,
  ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
  BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
  JWT_SECRET: randomBytes(32).toString('base64url'),
  CURSOR_SECRET: randomBytes(32).toString('base64url'),
  API_KEY_PEPPER: randomBytes(32).toString('base64url'),
};
const started: Started[] = [];
try {
  console.error(`[bench] servers: ${[mongo?.description, redis?.description].filter(Boolean).join(', ') || 'given'}`);
  // One after the other: the first seeds the demo data, the second finds it.
  started.push(await startDemo(env));
  started.push(await startDemo(env));
  const [first, second] = started as [Started, Started];
  // A session made through one process is valid on the other (shared JWT secret and session store).
  const token = await login(first.base);
  const pages = await Promise.all(
    started.map(async (server) => {
      const response = await fetch(`${server.base}${QUERY}`, { headers: { authorization: `Bearer ${token}` } });
      if (response.status !== 200) throw new Error(`${server.base}: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { items: { id: string }[] }).items.map((item) => item.id).join(',');
    }),
  );
  if (pages[0] !== pages[1] || !pages[0])
    throw new Error(`the two processes answer different pages: ${pages.join(' | ')}`);
  const items = pages[0].split(',').length;

  await load([first], token, 2);
  await load([first, second], token, 2);
  // Alternating rounds: a machine whose load drifts affects both set-ups alike.
  const one: Run[] = [];
  const two: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    one.push(await load([first], token, seconds));
    two.push(await load([first, second], token, seconds));
    const [a, b] = [one.at(-1)!, two.at(-1)!];
    console.error(
      `[bench] round ${round + 1}: one process ${Math.round(a.rps)}, two ${Math.round(b.rps)} req/s (${(b.rps / a.rps).toFixed(2)}); ` +
        `CPU ${figure(a.cpuPerRequest)} / ${figure(b.cpuPerRequest)} µs/request, ` +
        `stores ${figure(a.storesCpuPerRequest)} / ${figure(b.storesCpuPerRequest)}`,
    );
  }
  const ratios = two.map((run, index) => run.rps / one[index]!.rps);
  const ratio = middle(ratios, (value) => value);
  const load1 = os.loadavg()[0]!.toFixed(1);
  console.log(
    `\nGET ${QUERY} as the analyst (${items} items), MongoDB + Redis, ${CONNECTIONS} connections in all, median of ${ROUNDS} alternating ${seconds}s rounds, ${os.cpus().length} cores (load average ${load1} at the end), Node ${process.version}\n`,
  );
  console.log(
    '| processes | requests/s | p50 ms | p99 ms | Portcullis CPU µs/request | MongoDB + Redis servers CPU µs/request | requests/s vs one process |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const row = (name: string, runs: Run[], versus: string) => {
    const run = middle(runs, (value) => value.rps);
    const cpu = middle(runs, (value) => value.cpuPerRequest).cpuPerRequest;
    const stores = middle(runs, (value) => value.storesCpuPerRequest).storesCpuPerRequest;
    console.log(
      `| ${name} | ${Math.round(run.rps)} | ${run.p50} | ${run.p99} | ${figure(cpu)} | ${figure(stores)} | ${versus} |`,
    );
  };
  row('one', one, '1');
  row(
    'two (same stores)',
    two,
    `${ratio.toFixed(2)} (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
  );
} finally {
  for (const server of started) await stop(server).catch(() => undefined);
  await mongo?.stop();
  await redis?.stop();
}

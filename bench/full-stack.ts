// The demo's list endpoint under load with the whole stack, beside bare Express serving the same data
// from the same store kind: memory stores, then MongoDB + Redis (MONGODB_URI / REDIS_URL, else throwaway
// servers; --memory-only skips them).
// Run: npx tsx bench/full-stack.ts [seconds per round, default 10] [--memory-only]
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startMongoServer, startRedisServer } from '../test/support/servers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const seconds = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 10);
const CONNECTIONS = 10;
const ROUNDS = 5;

interface Started {
  child: ChildProcess;
  base: string;
  output: () => string;
}

async function start(script: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'error', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const base = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output}`)));
  });
  return { child, base, output: () => output };
}

async function stop(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) {
    throw new Error(`the server had already exited with ${started.child.exitCode}: ${started.output()}`);
  }
  const exited = new Promise((resolve) => started.child.once('exit', resolve));
  started.child.kill('SIGTERM');
  await exited;
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  /** The server's CPU time (user + system) per answered request, in µs; NaN without /proc (Linux only). */
  cpuPerRequest: number;
}

// Requests per second depend on how the machine shares its cores between the server and autocannon; the
// server's own CPU time per request does not, so it is reported beside them.
const CLOCK_TICKS = existsSync('/proc/self/stat') ? clockTicks() : NaN;

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString());
  } catch {
    return 100; // USER_HZ on every Linux architecture Node supports
  }
}

const figure = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined || Number.isNaN(CLOCK_TICKS)) return NaN;
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
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

async function login(base: string): Promise<string> {
  const response = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'ana', password: 'analyst-demo-password' }),
  });
  if (response.status !== 201) throw new Error(`login failed: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
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
  const demo = await start('examples/demo/main.ts', {
    ...env,
    RATE_LIMIT_MAX: '100000000',
    ADMIN_API_KEY: `bench.${randomBytes(24).toString('base64url')}`,
  });
  const token = await login(demo.base);
  // The analyst's first page, richest first: 20 of the 22 accounts in her countries, the same records from
  // both servers (checked), masked and audited by the full stack only.
  const query = '/accounts?limit=20&sort=-balance';
  const bareTarget = { url: `${bare.base}${query}`, headers: {} };
  // The analyst's list: authenticate (JWT + session), rate limit, authorize (ABAC), permission filters,
  // the filter language, masking and an audit event per request.
  const fullTarget = { url: `${demo.base}${query}`, headers: { authorization: `Bearer ${token}` } };
  items = await sameRecords(bareTarget, fullTarget);
  // Warm-ups so the JIT and connection pools settle, then alternating rounds: a machine whose load drifts
  // during the run affects both stacks alike, and the medians say more than any single run.
  await load(bare, bareTarget.url, bareTarget.headers, 2);
  await load(demo, fullTarget.url, fullTarget.headers, 2);
  const bareRuns: Run[] = [];
  const fullRuns: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bareRuns.push(await load(bare, bareTarget.url, bareTarget.headers, seconds));
    fullRuns.push(await load(demo, fullTarget.url, fullTarget.headers, seconds));
    const [b, f] = [bareRuns.at(-1)!, fullRuns.at(-1)!];
    console.error(
      `[bench] round ${round + 1}: bare ${Math.round(b.rps)}, full ${Math.round(f.rps)} req/s (${(f.rps / b.rps).toFixed(2)}); ` +
        `server CPU bare ${figure(b.cpuPerRequest)}, full ${figure(f.cpuPerRequest)} µs/request`,
    );
  }
  await stop(bare);
  await stop(demo);
  // Each round's two runs are neighbours in time: the ratio is the median of the rounds' ratios.
  const ratios = fullRuns.map((run, index) => run.rps / bareRuns[index]!.rps).sort((a, b) => a - b);
  const ratio = ratios[Math.floor(ratios.length / 2)]!;
  // The same for CPU: bare's CPU per request over the full stack's, round by round (1 = as cheap as bare).
  const cpuRatios = fullRuns
    .map((run, index) => bareRuns[index]!.cpuPerRequest / run.cpuPerRequest)
    .sort((a, b) => a - b);
  const cpuRatio = cpuRatios[Math.floor(cpuRatios.length / 2)]!;
  const cpuOf = (runs: Run[]) =>
    [...runs].map((run) => run.cpuPerRequest).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return [
    { stack: `bare Express (${name})`, ...median(bareRuns), ratio: 1, range: '', cpu: cpuOf(bareRuns), cpuRatio: 1 },
    {
      stack: `full Portcullis stack (${name})`,
      ...median(fullRuns),
      ratio,
      range: `${ratios[0]!.toFixed(2)}–${ratios.at(-1)!.toFixed(2)}`,
      cpu: cpuOf(fullRuns),
      cpuRatio,
    },
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

// Where the full stack's extra CPU comes from, ingredient by ingredient: bare Express, then the demo's stack
// built up one ingredient at a time in createPortcullis's order (security headers, metrics, request context,
// JSON bodies, the audit trail, the /health and /metrics routes, authentication, the rate limit, and last the
// CRUD router in place of the bare handler), then the whole stack with one ingredient left out at a time.
// Every server runs at once (bench/full-stack-ladder-server.ts); rounds alternate between them, and each
// figure is the median over rounds of the server's CPU time per request, user and kernel, read from /proc.
// Run: npx tsx bench/full-stack-ladder.ts [seconds per load, default 3] [--rounds N, default 3]
//   [--setup ingredient,ingredient,... (repeatable: only these servers, e.g. --setup headers,scope)]
import autocannon from 'autocannon';
import { cpuTimes, INGREDIENTS, login, start, stop, type Started } from './full-stack-servers.js';

const seconds = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 3);
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 3;
const env = { MONGODB_URI: '', REDIS_URL: '', RATE_LIMIT_MAX: '100000000' };

interface Setup {
  name: string;
  ingredients?: string[];
}
const setups: Setup[] = [{ name: 'bare Express (bench/full-stack-bare-server.ts)' }];
// `--setup a,b,c` (repeatable): only these sets of ingredients, beside bare Express.
const chosen = process.argv.flatMap((arg, index) => (process.argv[index - 1] === '--setup' ? [arg] : []));
for (const list of chosen) setups.push({ name: `with ${list}`, ingredients: list.split(',') });
if (chosen.length === 0) {
  for (let count = 0; count <= INGREDIENTS.length; count++) {
    const ingredients = INGREDIENTS.slice(0, count);
    setups.push({ name: count === 0 ? 'ladder: nothing' : `+ ${INGREDIENTS[count - 1]}`, ingredients });
  }
  for (const left of INGREDIENTS.filter((name) => name !== 'auth' && name !== 'crud')) {
    setups.push({ name: `full − ${left}`, ingredients: INGREDIENTS.filter((name) => name !== left) });
  }
}

const servers: { setup: Setup; server: Started; headers?: Record<string, string>; user: number[]; system: number[] }[] =
  [];
try {
  for (const setup of setups) {
    const server = setup.ingredients
      ? await start('bench/full-stack-ladder-server.ts', { ...env, LADDER: setup.ingredients.join(',') })
      : await start('bench/full-stack-bare-server.ts', env);
    servers.push({ setup, server, user: [], system: [] });
  }
  const query = '/accounts?limit=20&sort=-balance';
  // Sessions live in each server's memory store: one login per server.
  for (const entry of servers) {
    const { server } = entry;
    entry.headers = entry.setup.ingredients ? { authorization: `Bearer ${await login(server.base)}` } : {};
    const headers = entry.headers;
    const response = await fetch(`${server.base}${query}`, { headers });
    if (response.status !== 200) throw new Error(`${server.base}: ${response.status} ${await response.text()}`);
    await autocannon({ url: `${server.base}${query}`, connections: 10, duration: 1, headers });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const entry of servers) {
      const before = cpuTimes(entry.server.child.pid);
      const result = await autocannon({
        url: `${entry.server.base}${query}`,
        connections: 10,
        duration: seconds,
        headers: entry.headers,
      });
      const after = cpuTimes(entry.server.child.pid);
      if (result.non2xx > 0) throw new Error(`${entry.setup.name}: ${result.non2xx} non-2xx answers`);
      entry.user.push(((after.user - before.user) / result.requests.total) * 1e6);
      entry.system.push(((after.system - before.system) / result.requests.total) * 1e6);
    }
    console.error(`[ladder] round ${round + 1} of ${ROUNDS} done`);
  }
} finally {
  for (const { server } of servers) await stop(server).catch(() => undefined);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  `\nGET /accounts?limit=20&sort=-balance as the analyst, 10 connections, median of ${ROUNDS} rounds of ${seconds}s, Node ${process.version}\n`,
);
console.log('| server | user µs/request | kernel µs/request | total | step |\n| --- | ---: | ---: | ---: | ---: |');
let previous: number | undefined;
let full = 0;
for (const { setup, user, system } of servers) {
  const total = median(user.map((value, index) => value + system[index]!));
  if (setup.ingredients?.length === INGREDIENTS.length) full = total;
  const step = setup.name.startsWith('full −') ? total - full : previous === undefined ? 0 : total - previous;
  console.log(
    `| ${setup.name} | ${median(user).toFixed(0)} | ${median(system).toFixed(0)} | ${total.toFixed(0)} | ${step >= 0 ? '+' : ''}${step.toFixed(0)} |`,
  );
  if (!setup.name.startsWith('full −')) previous = total;
}

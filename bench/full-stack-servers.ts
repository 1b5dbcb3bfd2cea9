// The two servers bench/full-stack.ts compares (the demo and bare Express), started as child processes, the
// analyst's login and a process's CPU time; shared with bench/full-stack-layers.ts.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { RequestHandler } from 'express';
import type { FilterNode, RecordStore, SortKey } from 'portcullis';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface Started {
  child: ChildProcess;
  base: string;
  output: () => string;
}

/**
 * Starts `script` under tsx with `env` on a free port; `nodeOptions` go before it (e.g. `--cpu-prof`). `tree`:
 * another checkout of Portcullis (with its node_modules) to run the script from, default this one.
 */
export async function start(
  script: string,
  env: Record<string, string>,
  nodeOptions: string[] = [],
  tree = root,
): Promise<Started> {
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', script], {
    cwd: tree,
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

/** The demo, with a rate limit no load reaches and an administrator. */
export function startDemo(env: Record<string, string>, nodeOptions: string[] = [], tree?: string): Promise<Started> {
  const admin = { RATE_LIMIT_MAX: '100000000', ADMIN_API_KEY: `bench.${randomBytes(24).toString('base64url')}` };
  return start('examples/demo/main.ts', { ...env, ...admin }, nodeOptions, tree);
}

export async function stop(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) {
    throw new Error(`the server had already exited with ${started.child.exitCode}: ${started.output()}`);
  }
  const exited = new Promise((resolve) => started.child.once('exit', resolve));
  started.child.kill('SIGTERM');
  await exited;
}

export async function login(base: string): Promise<string> {
  const response = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'ana', password: 'analyst-demo-password' }),
  });
  if (response.status !== 201) throw new Error(`login failed: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
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

export const figure = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** A process's CPU time so far (user + system), in seconds; NaN without /proc (Linux only). */
export function cpuSeconds(pid: number | undefined): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** A process's CPU time so far in user space and in the kernel, in seconds; NaN without /proc (Linux only). */
export function cpuTimes(pid: number | undefined): { user: number; system: number } {
  if (pid === undefined || Number.isNaN(CLOCK_TICKS)) return { user: NaN, system: NaN };
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
}

// The analyst's row restriction in the demo (her group's permission filter).
const ANALYST_COUNTRIES = ['DE', 'FR'];

/**
 * The bare server's `GET /accounts`: what a hand-written app does instead of Portcullis: read two query
 * parameters, trust them, query the store, answer the page the analyst gets from the demo.
 */
export function bareListHandler(store: RecordStore): RequestHandler {
  return async (req, res) => {
    const limit = Math.min(Number(req.query.limit ?? 20) || 20, 100);
    const nodes: FilterNode[] = [{ kind: 'cond', op: 'in', field: 'country', values: ANALYST_COUNTRIES }];
    if (typeof req.query.status === 'string')
      nodes.push({ kind: 'cond', op: 'eq', field: 'status', value: req.query.status });
    const sort: SortKey[] = [];
    if (typeof req.query.sort === 'string') {
      const descending = req.query.sort.startsWith('-');
      sort.push({ field: descending ? req.query.sort.slice(1) : req.query.sort, direction: descending ? -1 : 1 });
    }
    // The id breaks ties in the direction of the last sort key, as the CRUD router's pages do.
    sort.push({ field: 'id', direction: sort.at(-1)?.direction ?? 1 });
    const items = await store.find({ where: { kind: 'and', nodes }, sort, limit });
    res.json({ items });
  };
}

/** What bench/full-stack-ladder-server.ts can mount, in createPortcullis's order (`crud` replaces the bare handler). */
export const INGREDIENTS = ['headers', 'metrics', 'context', 'json', 'audit', 'mounts', 'auth', 'ratelimit', 'crud'];
/** Ingredients the ladder server also knows, outside the ladder: `scope` (the audit trail's AsyncLocalStorage scope alone). */
export const EXTRA_INGREDIENTS = ['scope'];

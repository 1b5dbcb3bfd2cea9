// Per-request cost of rateLimit() in process: requests through an Express app without sockets, beside
// express-rate-limit used directly and the same app without a limiter.
// Run: npx tsx bench/rate-limit.ts [requests per round, default 100000] [rounds, default 5]
// With COMPARE_TREE=<another checkout of Portcullis> (e.g. `git worktree add /tmp/before <commit>`), its
// rateLimit() and MemoryRateLimitStore are measured in the same rounds.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import express, { type RequestHandler } from 'express';
import { MemoryStore, rateLimit as expressRateLimit } from 'express-rate-limit';
import { MemoryRateLimitStore } from 'portcullis/memory';
import { rateLimit } from 'portcullis';

const requests = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 5);
// Clients cycle through this many addresses, so counters are found and updated, not only created.
const CLIENTS = 1000;
const addresses = Array.from({ length: CLIENTS }, (_, i) => `10.0.${i >> 8}.${i & 255}`);

function appWith(limiters: RequestHandler[]): { app: express.Express; served: () => number } {
  const app = express();
  let count = 0;
  for (const limiter of limiters) app.use(limiter);
  app.use((_req, res) => {
    count += 1;
    res.emit('served');
  });
  app.use((error: unknown, _req: express.Request, _res: express.Response, _next: express.NextFunction) => {
    throw error;
  });
  return { app, served: () => count };
}

/** One request through the app, with a real IncomingMessage and ServerResponse but no socket I/O. */
function once(app: express.Express, ip: string): Promise<void> {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: ip });
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/';
  req.headers = { host: 'bench' };
  const res = new ServerResponse(req);
  return new Promise((resolve, reject) => {
    res.once('served', resolve);
    (app as unknown as (req: IncomingMessage, res: ServerResponse, done: (error?: unknown) => void) => void)(
      req,
      res,
      (error) => reject(error ?? new Error('not served')),
    );
  });
}

async function measure(build: () => RequestHandler[]): Promise<number> {
  const { app, served } = appWith(build());
  for (let i = 0; i < 2000; i++) await once(app, addresses[i % CLIENTS]!);
  const start = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) await once(app, addresses[i % CLIENTS]!);
  const elapsed = Number(process.hrtime.bigint() - start) / 1000;
  if (served() !== requests + 2000) throw new Error('a request was refused');
  return elapsed / requests;
}

const LIMIT = 1e9;
const cases: [string, () => RequestHandler[]][] = [
  ['no limiter (baseline)', () => []],
  [
    'express-rate-limit, MemoryStore, draft-8 headers',
    () => [
      expressRateLimit({ limit: LIMIT, store: new MemoryStore(), standardHeaders: 'draft-8', legacyHeaders: false }),
    ],
  ],
  ['rateLimit(), MemoryRateLimitStore', () => [rateLimit({ store: new MemoryRateLimitStore(), limit: LIMIT })]],
  ["rateLimit(), express-rate-limit's MemoryStore", () => [rateLimit({ store: new MemoryStore(), limit: LIMIT })]],
  [
    'two rateLimit()s on one MemoryRateLimitStore',
    () => {
      const store = new MemoryRateLimitStore();
      return [rateLimit({ store, name: 'ip', limit: LIMIT }), rateLimit({ store, name: 'api', limit: LIMIT })];
    },
  ],
];

const compareTree = process.env.COMPARE_TREE;
if (compareTree) {
  type Before = { rateLimit: typeof rateLimit; MemoryRateLimitStore: typeof MemoryRateLimitStore };
  const before = (await import(`${compareTree}/middleware/index.ts`)) as Before;
  cases.push(
    ['COMPARE_TREE rateLimit()', () => [before.rateLimit({ store: new before.MemoryRateLimitStore(), limit: LIMIT })]],
    [
      'COMPARE_TREE: two rateLimit()s on one store',
      () => {
        const store = new before.MemoryRateLimitStore();
        return [
          before.rateLimit({ store, name: 'ip', limit: LIMIT }),
          before.rateLimit({ store, name: 'api', limit: LIMIT }),
        ];
      },
    ],
  );
}

const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  // Alternating cases within each round spreads the machine's noise over all of them.
  for (const [name, build] of cases) results.get(name)!.push(await measure(build));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const baseline = median(results.get(cases[0]![0])!);
console.log(`${requests} requests per round, ${rounds} rounds, ${CLIENTS} client addresses; medians:`);
for (const [name, values] of results) {
  const perRequest = median(values);
  const extra = name === cases[0]![0] ? '' : `  (limiter ${(perRequest - baseline).toFixed(2)} µs)`;
  console.log(`  ${name.padEnd(50)} ${perRequest.toFixed(2)} µs/request${extra}`);
}

// Non-interference (DESIGN security property 1): for a caller who may not read a field in clear, no response
// of any route changes when only that field's values change. Two demo apps that differ only in one field's
// values answer the same generated requests of one role, and every answer must be the same.
import { expect } from 'chai';
import request from 'supertest';
import { accountFields, seedAccounts, type SeedAccount } from '../../examples/demo/accounts.js';
import { matchAll } from '../../src/filter/index.js';
import type { UnmaskGrant } from '../../src/pii/masker.js';
import { startDemoApp, type DemoApp, type DemoBackend, type DemoRole } from '../support/demo-app.js';

/** Fields each role may not read in clear (the demo's groups and `read:pii` policies). */
const UNREADABLE: Partial<Record<DemoRole, string[]>> = {
  analyst: ['email', 'phone', 'notes', 'nationalId'],
  support: ['notes', 'nationalId'],
};
/** The grant the demo gives each role (its `unmask`), to build values that mask alike. */
const GRANTS: Partial<Record<DemoRole, UnmaskGrant>> = {
  analyst: { fields: [], labels: [] },
  support: { fields: ['email', 'phone'], labels: [] },
};
const REQUESTS_PER_FIELD = Number(process.env.NON_INTERFERENCE_REQUESTS ?? 80);
const SEED = Number(process.env.NON_INTERFERENCE_SEED ?? 20261205);
const FIELDS = [...Object.keys(accountFields), 'id'];
const OPERATORS = [
  '',
  '__ne',
  '__in',
  '__notin',
  '__startswith',
  '__contains',
  '__exists',
  '__gt',
  '__lte',
  '__between',
];
const IDS = Array.from({ length: 64 }, (_, index) => `acc_${String(index + 1).padStart(4, '0')}`);

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
}

interface Step {
  method: 'get' | 'post';
  path: string;
  body?: unknown;
  /** Send the ETag of the previous answer to this path as If-None-Match. */
  revalidate?: boolean;
}

/** Seeded requests over every read route, with values drawn from the data and the field's own values. */
function generate(rng: () => number, count: number, samples: Record<string, string[]>): Step[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
  const valueOf = (field: string, op: string): string => {
    const pool = samples[field] ?? ['x'];
    const one = (): unknown =>
      field === 'age' || field === 'balance'
        ? Math.floor(rng() * 100)
        : field === 'createdAt' || field === 'updatedAt'
          ? '2024-01-01T00:30:00.000Z'
          : pick(pool).slice(0, 1 + Math.floor(rng() * 12));
    if (op === '__in' || op === '__notin') return JSON.stringify([one(), pick(pool), one()]);
    if (op === '__between') return JSON.stringify([one(), one()]);
    if (op === '__exists') return pick(['true', 'false']);
    const value = one();
    return typeof value === 'string' && rng() < 0.5 ? pick(pool) : String(value);
  };
  const steps: Step[] = [];
  while (steps.length < count) {
    const kind = pick(['list', 'list', 'list', 'get', 'unique', 'search', 'trash', 'history', 'audit', 'path']);
    switch (kind) {
      case 'list':
      case 'trash': {
        const params = new URLSearchParams();
        for (let n = Math.floor(rng() * 3); n > 0; n--) {
          const field = pick(FIELDS);
          const op = pick(OPERATORS);
          params.append(`${field}${op}`, valueOf(field, op));
        }
        if (rng() < 0.6) params.set('sort', `${pick(['', '-'])}${pick(FIELDS)}`);
        params.set('limit', String(1 + Math.floor(rng() * 8)));
        if (rng() < 0.3) params.set('fields', [pick(FIELDS), pick(FIELDS)].join(','));
        if (rng() < 0.3) params.set('count', 'true');
        if (rng() < 0.1) params.set('offset', String(Math.floor(rng() * 5)));
        steps.push({ method: 'get', path: `/accounts${kind === 'trash' ? '/trash' : ''}?${params}` });
        break;
      }
      case 'get':
        steps.push({ method: 'get', path: `/accounts/${pick(IDS)}`, revalidate: rng() < 0.5 });
        break;
      case 'unique':
        steps.push({ method: 'get', path: `/accounts/unique/${pick(FIELDS)}` });
        break;
      case 'search': {
        const field = pick(FIELDS);
        steps.push({
          method: 'post',
          path: `/accounts/search/${field}`,
          body: [valueOf(field, ''), valueOf(field, '')],
        });
        break;
      }
      case 'history':
        steps.push({ method: 'get', path: `/accounts/${pick(['acc_0001', 'acc_0002', pick(IDS)])}/history` });
        break;
      case 'audit':
        steps.push({ method: 'get', path: pick(['/audit/events?limit=5', '/audit/history/accounts/acc_0001']) });
        break;
      case 'path': {
        const field = pick(FIELDS);
        steps.push({ method: 'get', path: `/accounts/${field}/${encodeURIComponent(valueOf(field, ''))}` });
        break;
      }
    }
  }
  return steps;
}

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** One answer, with only what is random by nature replaced: request ids, event ids, clock times, cursors. */
function normalise(response: request.Response): { text: string; cursor: string | null; etag: string | undefined } {
  let body: unknown = response.body;
  let cursor: string | null = null;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const copy = { ...(body as Record<string, unknown>) };
    delete copy.requestId;
    if (typeof copy.nextCursor === 'string') {
      cursor = copy.nextCursor;
      copy.nextCursor = '<cursor>';
    }
    body = copy;
  }
  const fixed = (text: string) =>
    text.replace(ISO, (time) => (time.startsWith('2024-') ? time : '<now>')).replace(UUID, '<uuid>');
  const etag = response.headers.etag as string | undefined;
  const text = fixed(
    JSON.stringify({
      status: response.status,
      type: response.headers['content-type'],
      etag: etag?.startsWith('W/') ? 'weak' : etag,
      body,
    }),
  );
  return { text, cursor, etag };
}

class Client {
  readonly #etags = new Map<string, string>();
  constructor(
    readonly demo: DemoApp,
    readonly role: DemoRole,
  ) {}

  async send(step: Step): Promise<request.Response> {
    const call = request(this.demo.app)[step.method](step.path).set(this.demo.headers[this.role]);
    const etag = step.revalidate ? this.#etags.get(step.path) : undefined;
    if (etag) call.set('If-None-Match', etag);
    const response = step.body === undefined ? await call : await call.send(step.body as object);
    if (typeof response.headers.etag === 'string') this.#etags.set(step.path, response.headers.etag);
    return response;
  }

  /** The step's answers: the first page, then each page its cursor leads to (tokens stay this app's own). */
  async run(step: Step): Promise<string[]> {
    const answers: string[] = [];
    let response = await this.send(step);
    for (let page = 0; page < 80; page++) {
      const { text, cursor } = normalise(response);
      answers.push(text);
      if (!cursor) break;
      const separator = step.path.includes('?') ? '&' : '?';
      response = await this.send({
        method: 'get',
        path: `${step.path}${separator}cursor=${encodeURIComponent(cursor)}`,
      });
    }
    return answers;
  }
}

/** A value that masks exactly like `value` for this grant but differs from it wherever the mask hides. */
function variantOf(demo: DemoApp, field: string, value: string, grant: UnmaskGrant, hidden: boolean): string {
  const masker = demo.parts.accountsMasker;
  const masked = (text: string) => JSON.stringify(masker.mask({ [field]: text }, grant));
  const target = masked(value);
  const chars = [...value];
  for (let index = 0; index < chars.length; index++) {
    const char = chars[index]!;
    let replacement: string | undefined;
    if (/\d/.test(char)) replacement = String((Number(char) + 7) % 10);
    else if (/[a-y]/.test(char)) replacement = String.fromCharCode(char.charCodeAt(0) + 1);
    else if (char === 'z') replacement = 'a';
    if (replacement === undefined) continue;
    const before = chars[index]!;
    chars[index] = replacement;
    if (!hidden && masked(chars.join('')) !== target) chars[index] = before;
  }
  return chars.join('');
}

/** Gives every account fixed times, and `field` its own (A) or varied (B) value: the same writes on both. */
async function prepare(demo: DemoApp, field: string, role: DemoRole, varied: boolean): Promise<number> {
  const grant = GRANTS[role]!;
  const hidden = role === 'analyst' && field === 'nationalId';
  let changed = 0;
  for (const [index, id] of IDS.entries()) {
    const record = await demo.parts.accounts.get(id);
    if (!record) continue;
    const { id: _id, _version, ...fields } = record;
    const time = new Date(Date.UTC(2024, 0, 1, 0, index));
    const value = fields[field];
    let next = value;
    if (varied && typeof value === 'string') {
      next = variantOf(demo, field, value, grant, hidden);
      if (next !== value) changed++;
    }
    await demo.parts.accounts.replace(id, _version, { ...fields, [field]: next, createdAt: time, updatedAt: time });
  }
  // Changes by the administrator, so the history and the trash have entries: the field itself changes too.
  const admin = demo.headers.admin;
  const seeded = seedAccounts()[0]![field as keyof SeedAccount];
  const written = typeof seeded === 'string' ? `${seeded.slice(0, -1)}3` : seeded;
  const newValue = varied && typeof written === 'string' ? variantOf(demo, field, written, grant, hidden) : written;
  await request(demo.app)
    .patch('/accounts/acc_0001')
    .set(admin)
    .send({ [field]: newValue })
    .expect(200);
  await request(demo.app).patch('/accounts/acc_0001').set(admin).send({ status: 'suspended' }).expect(200);
  await request(demo.app).delete('/accounts/acc_0002').set(admin).expect(204);
  await request(demo.app).delete('/accounts/acc_0005').set(admin).expect(204);
  await demo.parts.pipeline.flush();
  return changed;
}

for (const backend of ['memory', 'mongodb'] as DemoBackend[]) {
  describe(`non-interference (${backend})`, function () {
    this.timeout(120_000);
    for (const [role, fields] of Object.entries(UNREADABLE) as [DemoRole, string[]][]) {
      for (const [offset, field] of fields.entries()) {
        it(`${role}: no answer depends on ${field}`, async function () {
          const [a, b] = await Promise.all([startDemoApp(backend), startDemoApp(backend)]);
          try {
            await prepare(a, field, role, false);
            const changed = await prepare(b, field, role, true);
            expect(changed, 'records whose value differs between the two apps').to.be.greaterThan(10);
            const samples: Record<string, string[]> = {};
            for (const record of await a.parts.accounts.find({
              where: matchAll,
              sort: [{ field: 'id', direction: 1 }],
              limit: 100,
            })) {
              for (const [key, value] of Object.entries(record)) {
                if (typeof value === 'string') (samples[key] ??= []).push(value);
                if (Array.isArray(value)) (samples[key] ??= []).push(...value.map(String));
              }
            }
            const steps = generate(random(SEED + offset), REQUESTS_PER_FIELD, samples);
            const clientA = new Client(a, role);
            const clientB = new Client(b, role);
            let answered = 0;
            for (const step of steps) {
              const [answersA, answersB] = [await clientA.run(step), await clientB.run(step)];
              answered += answersA.length;
              if (JSON.stringify(answersA) !== JSON.stringify(answersB)) {
                // Every generated request is a read: the smallest sequence that tells the apps apart is this
                // one request (with the pages its cursors lead to).
                const page = answersA.findIndex((answer, index) => answer !== answersB[index]);
                const [textA, textB] = [answersA[page] ?? '', answersB[page] ?? ''];
                let at = 0;
                while (at < textA.length && textA[at] === textB[at]) at++;
                const around = (text: string) => text.slice(Math.max(0, at - 200), at + 200);
                expect.fail(
                  `${role} tells the apps apart by ${field} with one request: ${step.method.toUpperCase()} ${step.path}` +
                    `${step.body === undefined ? '' : ` ${JSON.stringify(step.body)}`}` +
                    `${step.revalidate ? ' (If-None-Match)' : ''}, page ${page + 1}:\n` +
                    `A: …${around(textA)}…\nB: …${around(textB)}…`,
                );
              }
            }
            expect(answered).to.be.at.least(steps.length);
          } finally {
            await Promise.all([a.close(), b.close()]);
          }
        });
      }
    }
  });
}

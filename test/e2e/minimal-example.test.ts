// examples/minimal, a complete app on a mongoose model, started as a user would and used over HTTP.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mongoUriFor, uniqueName } from '../support/connections.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = 'examples/minimal/main.ts';

function run(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: root,
    env: { ...process.env, MONGODB_URI: '', REDIS_URL: '', LOG_LEVEL: 'warn', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', resolve));

describe('examples/minimal', function () {
  this.timeout(60_000);
  const adminKey = `admin.${randomBytes(18).toString('base64url')}`;
  let app: ReturnType<typeof run>;
  let base: string;
  const admin = { 'X-API-Key': adminKey, 'Content-Type': 'application/json' };

  before(async function () {
    app = run({ MONGODB_URI: mongoUriFor(uniqueName('minimal')), ADMIN_API_KEY: adminKey });
    base = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /listening on (http:\/\/\S+?)\/books/.exec(app.output());
        if (match) {
          clearInterval(timer);
          resolve(match[1]!);
        }
      }, 100);
      app.child.once('exit', (code) => {
        clearInterval(timer);
        reject(new Error(`exited with ${code}: ${app.output()}`));
      });
    });
  });

  after(async function () {
    if (app.child.exitCode !== null) return;
    const exited = exitOf(app.child);
    app.child.kill('SIGTERM');
    expect(await exited, app.output()).to.equal(0);
  });

  it("is the README's composition example, verbatim", function () {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## How the pieces compose'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    expect(block).to.equal(readFileSync(new URL(`../../${main}`, import.meta.url), 'utf8'));
  });

  it('is under 60 lines', function () {
    expect(
      readFileSync(new URL(`../../${main}`, import.meta.url), 'utf8')
        .trimEnd()
        .split('\n').length,
    ).to.be.below(60);
  });

  it('serves books with authentication, ABAC, filtering, masking and audit', async function () {
    expect((await fetch(`${base}/health`)).status).to.equal(200);
    const anonymous = await fetch(`${base}/books`);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get('content-type')).to.match(/^application\/problem\+json/);

    const book = { title: 'Dune', author: 'Frank Herbert', year: 1965, borrower: 'ada@example.org' };
    const created = await fetch(`${base}/books`, { method: 'POST', headers: admin, body: JSON.stringify(book) });
    expect(created.status, await created.clone().text()).to.equal(201);
    const { id } = (await created.json()) as { id: string };

    const listed = await fetch(`${base}/books?year__gte=1950&sort=-year`, { headers: admin });
    expect(listed.status).to.equal(200);
    const items = ((await listed.json()) as { items: Record<string, unknown>[] }).items;
    expect(items.find((item) => item.id === id)).to.include(book);

    const bad = await fetch(`${base}/books?year__gt=old`, { headers: admin });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors[0]!.field).to.equal('year__gt');

    // The audit event was masked before it was stored: nobody reads the borrower there.
    let events: { action: string; resourceId?: string; body?: { borrower?: string } }[] = [];
    for (let attempt = 0; attempt < 40 && events.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const response = await fetch(`${base}/audit/events?action=CREATE&resource=books`, { headers: admin });
      expect(response.status).to.equal(200);
      events = ((await response.json()) as { items: typeof events }).items;
    }
    expect(events[0]).to.include({ action: 'CREATE', resourceId: id });
    expect(events[0]!.body!.borrower).to.match(/^X+$/);
  });

  it('fails at start naming MONGODB_URI when it is not set', async function () {
    const bare = run({});
    expect(await exitOf(bare.child)).to.equal(1);
    expect(bare.output().trim()).to.equal('config error: MONGODB_URI: is required: the books live in MongoDB');
  });
});

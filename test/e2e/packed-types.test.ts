// The package as published, compiled by a fresh TypeScript project with `strict` and without `skipLibCheck`:
// `npm pack` of a build, installed next to only what npm would install for a consumer (its dependencies,
// express and @types/express, copied offline from this repo's node_modules), so a type the emitted .d.ts
// files need from a devDependency or from an optional driver fails here.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** What npm installs with a package: its dependencies and its peers not marked optional. */
function requiredBy(manifest: Manifest): string[] {
  const peers = Object.keys(manifest.peerDependencies ?? {}).filter(
    (name) => !manifest.peerDependenciesMeta?.[name]?.optional,
  );
  return [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}), ...peers];
}

/** Node's lookup of `name` from `dir` up to the repo root, as a path relative to the root. */
function locate(name: string, dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return relative(root, candidate);
    if (relative(root, at) === '') return undefined;
  }
}

/** Copies `names` and everything they require from this repo's node_modules into `project`, at the same paths. */
function install(project: string, names: string[], from = root, copied = new Set<string>()): void {
  for (const name of names) {
    const path = locate(name, from);
    if (path === undefined) {
      if (from === root) throw new Error(`${name} is not installed in this repo`);
      continue; // an optional dependency for another platform
    }
    if (copied.has(path)) continue;
    copied.add(path);
    const source = join(root, path);
    const nested = join(source, 'node_modules') + sep;
    cpSync(source, join(project, path), { recursive: true, filter: (file) => !`${file}${sep}`.startsWith(nested) });
    install(project, requiredBy(manifestOf(source)), source, copied);
  }
}

function compile(project: string): string {
  const result = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
  return result.status === 0 ? '' : `${result.stdout}${result.stderr}` || `tsc exited with ${result.status}`;
}

const consumerConfig = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: false,
    noEmit: true,
  },
};

// Uses the root and `portcullis/memory`, which must compile without mongoose or ioredis.
const withoutDrivers = `
import express from 'express';
import { createPortcullis, crudRouter, loadConfig, type Portcullis, type RecordStore } from 'portcullis';
import { MemoryRecordStore } from 'portcullis/memory';

const config = loadConfig({ ADMIN_API_KEY: 'admin.0123456789abcdef0123456789' });
const portcullis: Portcullis = await createPortcullis(config, { piiFields: ['email'] });
const store: RecordStore = new MemoryRecordStore({ schema: { name: 'string', email: 'string' }, idPrefix: 'acc_' });
const app = portcullis.app();
app.use('/accounts', portcullis.crudRouter({ resource: 'accounts', store }));
app.use('/plain', crudRouter({ resource: 'plain', store }));
express.json();
await portcullis.close();
`;

// The driver entries, once the drivers are installed.
const withDrivers = `
import { createStores, type Stores } from 'portcullis/stores';
import { MongoRecordStore, connectMongo } from 'portcullis/mongodb';
import { RedisSessionStore, connectRedis } from 'portcullis/redis';
import { loadConfig } from 'portcullis';
import { runCli } from 'portcullis/cli';

const stores: Stores = await createStores(loadConfig({}));
const connection = stores.connections.mongodb ?? (await connectMongo('mongodb://127.0.0.1/app'));
const model = connection.model('books', new (await import('mongoose')).Schema({ title: String }));
new MongoRecordStore({ model });
new RedisSessionStore({ client: stores.connections.redis ?? (await connectRedis('redis://127.0.0.1')) });
await runCli(['help']);
`;

describe('the packed package compiles in a fresh project without skipLibCheck', function () {
  this.timeout(120_000);
  let work: string;
  let project: string;

  before(function () {
    work = mkdtempSync(join(tmpdir(), 'portcullis-pack-'));
    const staging = join(work, 'package');
    mkdirSync(staging);
    for (const file of ['package.json', 'README.md']) copyFileSync(join(root, file), join(staging, file));
    cpSync(join(root, 'docs'), join(staging, 'docs'), { recursive: true });
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(staging, 'dist')]);
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
        cwd: staging,
        encoding: 'utf8',
      }),
    ) as { filename: string }[];

    project = join(work, 'consumer');
    const installed = join(project, 'node_modules/portcullis');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, packed!.filename), '-C', installed, '--strip-components=1']);
    install(project, [...requiredBy(manifestOf(installed)), 'express', '@types/express']);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ ...consumerConfig, files: ['main.ts'] }));
    writeFileSync(join(project, 'main.ts'), withoutDrivers);
  });

  after(function () {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the root and portcullis/memory, with neither mongoose nor ioredis installed', function () {
    expect(existsSync(join(project, 'node_modules/mongoose'))).to.equal(false);
    expect(existsSync(join(project, 'node_modules/ioredis'))).to.equal(false);
    expect(compile(project)).to.equal('');
  });

  it('portcullis/stores, portcullis/mongodb, portcullis/redis and portcullis/cli, once the drivers are installed', function () {
    install(project, ['mongoose', 'ioredis']);
    writeFileSync(join(project, 'drivers.ts'), withDrivers);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ ...consumerConfig, files: ['main.ts', 'drivers.ts'] }),
    );
    expect(compile(project)).to.equal('');
  });
});

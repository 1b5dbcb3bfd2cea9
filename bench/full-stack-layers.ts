// Where the full-stack bench's CPU goes: the demo (or bare Express, with --bare) on memory stores under the
// bench's load, CPU-profiled (`--cpu-prof`), and each sample counted in the layer of its nearest frame with
// a source file (start-up samples left out). Prints each layer's share and µs per request.
// V8's sampler counts wall time: a sample that lands in a native socket write (writev) counts kernel work
// and any time the process spent off the CPU there, so on a busy machine it swings widely (from 135 to
// 540 µs per request in two runs of the demo). The layers are therefore scaled to the user-space CPU time
// from /proc without those samples, and the kernel's CPU time from /proc is its own row.
// Run: npx tsx bench/full-stack-layers.ts [seconds, default 10] [--bare]
import autocannon from 'autocannon';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuTimes, login, start, startDemo, stop } from './full-stack-servers.js';

const seconds = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 10);
const bare = process.argv.includes('--bare');

// First match wins: a frame's file (repo-relative, `npm:<package>` or `node:<module>`) or a native's name.
const layers: [string, RegExp][] = [
  [
    'masking (src/pii walk, recognizers, strategies)',
    /^src\/pii\/(engine|recognizers|strategies|state-sets|paths|validators|masker)|^src\/regex|^npm:re2js|^RegExp:/,
  ],
  ['field decryption', /^src\/pii\/field|^stores\/encrypted-records/],
  ['audit (trail, event, canonical JSON, chain, pipeline)', /^src\/audit|^middleware\/audit-trail/],
  ['list cursor (AES-GCM)', /^src\/filter\/(cursor|compiled-query)/],
  ['query language, permission filters, visibility', /^src\/filter|^src\/pii\/visibility/],
  ['memory store (predicate, sort, copies)', /^stores\/|^src\/own/],
  ['CRUD router and presenter', /^middleware\/crud/],
  ['authentication (JWT, session, principal)', /^src\/auth|^middleware\/auth|^npm:jsonwebtoken/],
  ['ABAC', /^src\/abac/],
  ['rate limit', /rate-limit|failure-limit/],
  ['metrics', /^npm:prom-client|^middleware\/metrics/],
  ['security headers', /^npm:helmet|^middleware\/security-headers/],
  ['other middleware and app', /^middleware\/|^app\/|^src\/|^examples\/|^bench\//],
  ['Express, its router and other packages', /^npm:/],
  ['crypto (hashes, ciphers)', /^node:internal\/crypto|^node:crypto/],
  ['other Node internals: HTTP, sockets, streams, events', /^node:|^writev$/],
  ['garbage collection', /^\(garbage collector\)$/],
];
const STARTUP = /tsx|esbuild|internal\/modules|internal\/bootstrap/;
// Native socket writes (no source file): their samples are wall time in a system call, see above.
const SOCKET_WRITE = /^(writev|writeBuffer|write(Utf8|Latin1|Ascii|Ucs2)String)$/;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

function fileOf(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (dependency) return `npm:${dependency[1]}`;
  const repo = path.indexOf(`${process.cwd()}/`);
  return repo === 0 ? path.slice(process.cwd().length + 1) : path;
}

function layersOf(file: string, requests: number, cpu: { user: number; system: number }): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const totals = new Map<string, number>();
  let busy = 0;
  let writing = 0;
  for (let index = 0; index < profile.samples.length; index++) {
    const leaf = nodes.get(profile.samples[index]!)!;
    if (leaf.callFrame.functionName === '(idle)' || leaf.callFrame.functionName === '(program)') continue;
    if (!leaf.callFrame.url && SOCKET_WRITE.test(leaf.callFrame.functionName)) {
      writing += profile.timeDeltas[index] ?? 0;
      continue;
    }
    const frames: string[] = [];
    for (let id: number | undefined = leaf.id; id !== undefined; id = parents.get(id)) {
      const { url, functionName } = nodes.get(id)!.callFrame;
      frames.push(url ? fileOf(url) : functionName);
    }
    if (frames.some((frame) => STARTUP.test(frame))) continue;
    const layer =
      frames.map((frame) => layers.find(([, pattern]) => pattern.test(frame))?.[0]).find(Boolean) ?? 'other';
    const time = profile.timeDeltas[index] ?? 0;
    totals.set(layer, (totals.get(layer) ?? 0) + time);
    busy += time;
  }
  // Scaled to the process's CPU time per request during the load (profiling itself costs a little).
  const user = (cpu.user / requests) * 1e6;
  const system = (cpu.system / requests) * 1e6;
  const server = bare ? 'bare Express' : 'full stack';
  console.log(`${server}: ${requests} requests, ${(user + system).toFixed(0)} µs CPU each`);
  console.log(
    `socket writes: ${((user * writing) / busy).toFixed(0)} µs of wall time per request in the profile, ` +
      `against ${system.toFixed(0)} µs of kernel CPU time for everything\n`,
  );
  console.log('| layer | share of user CPU | µs per request |\n| --- | ---: | ---: |');
  for (const [layer, time] of [...totals].sort((a, b) => b[1] - a[1])) {
    console.log(`| ${layer} | ${((100 * time) / busy).toFixed(1)}% | ${((user * time) / busy).toFixed(0)} |`);
  }
  console.log(`| kernel (socket reads and writes, other system calls) | | ${system.toFixed(0)} |`);
  console.log(`| total | | ${(user + system).toFixed(0)} |`);
}

const directory = mkdtempSync(join(tmpdir(), 'portcullis-profile-'));
try {
  const options = ['--cpu-prof', `--cpu-prof-dir=${directory}`];
  const env = { MONGODB_URI: '', REDIS_URL: '' };
  const server = bare ? await start('bench/full-stack-bare-server.ts', env, options) : await startDemo(env, options);
  const headers: Record<string, string> = bare ? {} : { authorization: `Bearer ${await login(server.base)}` };
  const url = `${server.base}/accounts?limit=20&sort=-balance`;
  await autocannon({ url, connections: 10, duration: 2, headers });
  const before = cpuTimes(server.child.pid);
  const result = await autocannon({ url, connections: 10, duration: seconds, headers });
  const after = cpuTimes(server.child.pid);
  const cpu = { user: after.user - before.user, system: after.system - before.system };
  await stop(server);
  // The main thread's profile is the largest (tsx's loader thread writes one too).
  const [main] = readdirSync(directory)
    .map((name) => join(directory, name))
    .sort((a, b) => readFileSync(b).length - readFileSync(a).length);
  layersOf(main!, result.requests.total, cpu);
} finally {
  rmSync(directory, { recursive: true, force: true });
}

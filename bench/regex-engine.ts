// Configured patterns on the linear-time engine (compileRegex, re2js) beside JavaScript's RegExp, in one run:
// short inputs as ABAC decisions and endpoint checks see them, then hostile inputs where RegExp backtracks.
// Run: npx tsx bench/regex-engine.ts [--seconds 1]
import { cpus, loadavg } from 'node:os';
import { compileRegex } from '../src/regex.js';

const args = process.argv.slice(2);
const index = args.indexOf('--seconds');
const SECONDS = index >= 0 ? Number(args[index + 1]) : 1;

function perSecond(run: (i: number) => boolean): number {
  for (let i = 0; i < 20_000; i++) run(i);
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const deadline = started + (SECONDS * 1000) / 3;
    let count = 0;
    while ((count & 1023) !== 0 || performance.now() < deadline) run(count++);
    best = Math.max(best, (count / (performance.now() - started)) * 1000);
  }
  return best;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

console.log(`Load average ${loadavg().map((x) => x.toFixed(1))} on ${cpus().length} CPUs, Node ${process.version}.`);
console.log('\nShort inputs (tests/s, best of three rounds):');
const short: [string, string[]][] = [
  ['^(?:[A-Za-z]+ M[a-z]+)$', ['Jim Morrison', 'Jim Hendrix']],
  ['^(?:read|get)$', ['get', 'delete']],
  ['^library:org500:(?:[0-9]+)$', ['library:org500:42', 'library:org501:42']],
  ['^acc_[a-z0-9]+$', ['acc_12345abc', 'xyz_123']],
  ['^(?:/accounts/[^/]+)$', ['/accounts/acc_1', '/users/1']],
];
for (const [source, inputs] of short) {
  const js = new RegExp(source);
  const linear = compileRegex(source);
  const a = perSecond((i) => js.test(inputs[i & 1]!));
  const b = perSecond((i) => linear.test(inputs[i & 1]!));
  console.log(
    `  ${source.padEnd(32)} RegExp ${fmt(a).padStart(12)}   linear ${fmt(b).padStart(12)}   ${(b / a).toFixed(2)}×`,
  );
}

console.log('\nHostile inputs (one test, ms; RegExp only where it finishes in seconds):');
const hostile: [string, string, number][] = [
  ['^acc_([a-z0-9]+){1,16}$', 'acc_', 20],
  ['/accounts/(\\w|\\d)+$', '/accounts/', 24],
  ['[a-z]+[a-z]+[a-z]+@', '', 300],
];
for (const [source, prefix, jsLength] of hostile) {
  const js = new RegExp(source);
  const linear = compileRegex(source);
  const fill = source.includes('\\d') ? '1' : 'a';
  const jsInput = `${prefix}${fill.repeat(jsLength)}!`;
  let started = performance.now();
  js.test(jsInput);
  const jsMs = performance.now() - started;
  const longInput = `${prefix}${fill.repeat(1_000_000)}!`;
  started = performance.now();
  linear.test(longInput);
  const linearMs = performance.now() - started;
  console.log(
    `  ${source.padEnd(26)} RegExp on ${jsInput.length} chars ${jsMs.toFixed(0).padStart(6)} ms   linear on ${longInput.length.toLocaleString('en-US')} chars ${linearMs.toFixed(1)} ms`,
  );
}

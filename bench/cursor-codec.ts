// Cost of one list cursor on the hot path: encode (the page's nextCursor) plus decode (the next request's
// cursor), for a sort on an e-mail address and the id tie-breaker. Run: npx tsx bench/cursor-codec.ts
import { createCursorCodec } from '../src/filter/cursor.js';

const codec = createCursorCodec('bench-cursor-secret-of-32-characters!');
const binding = 'accounts\nemail\nid\nview:usr_ana\n{"kind":"and","nodes":[]}';
const types = ['string', 'string'] as const;
const records = Array.from({ length: 1000 }, (_, i) => [
  `ada.haddad${i}@example.com`,
  `acc_${String(i).padStart(4, '0')}`,
]);

// Alternating rounds on a shared machine; the median round is reported.
function measure(label: string, run: (i: number) => unknown, rounds = 7, roundMs = 400): number {
  for (let i = 0; i < 20_000; i++) run(i);
  const samples: number[] = [];
  let sink = 0;
  for (let round = 0; round < rounds; round++) {
    let ops = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < roundMs) {
      for (let i = 0; i < 1000; i++) if (run(ops + i)) sink++;
      ops += 1000;
      elapsed = performance.now() - start;
    }
    samples.push((elapsed * 1000) / ops);
  }
  const median = samples.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
  console.log(`${label.padEnd(28)} ${median.toFixed(2).padStart(7)} µs/op (median of ${rounds})${sink < 0 ? '!' : ''}`);
  return median;
}

const tokens = records.map((values) => codec.encode(values, binding));
console.log(`cursor codec, node ${process.version}, cursor length ${tokens[0]!.length}`);
const encode = measure('encode', (i) => codec.encode(records[i % 1000]!, binding));
const decode = measure('decode', (i) => codec.decode(tokens[i % 1000]!, binding, types));
const both = measure('encode + decode', (i) => codec.decode(codec.encode(records[i % 1000]!, binding), binding, types));
console.log(`sum of parts ${(encode + decode).toFixed(2)} µs`);
void both;

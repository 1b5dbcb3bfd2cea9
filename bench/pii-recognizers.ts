// Recognizer scanning throughput in MB/s: realistic log text, PII-dense text and hostile inputs.
// Run: npx tsx bench/pii-recognizers.ts
import { builtinLabels, type BuiltinLabel } from '../src/pii/recognizers.js';
import { createMasker } from 'portcullis';

const lines = [
  'GET /api/orders?page=2 200 12ms user-agent="Mozilla/5.0 (X11; Linux x86_64)" request-id=9f1c2e',
  'payment accepted for order 88123 amount=129.90 currency=EUR merchant=ACME-STORE',
  'user ada.lovelace@example.org updated profile fields name,locale',
  'retrying webhook delivery attempt=3 backoff=800ms endpoint=https://hooks.example.com/x',
  'card 4111 1111 1111 1111 declined, fallback to IBAN GB82 WEST 1234 5698 7654 32',
  'login from 192.168.10.24 with token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  'cache miss for key catalog:v2:sku-10023 took 3ms',
  'support call +44 20 7946 0958 about SSN 123-45-6789 verification',
];
function corpus(bytes: number, source: string[]): string {
  let text = '';
  let i = 0;
  while (text.length < bytes) text += `${source[i++ % source.length]}\n`;
  return text;
}
const realistic = corpus(1_000_000, lines);
const plainOnly = corpus(1_000_000, [lines[0]!, lines[1]!, lines[3]!, lines[6]!]);
const hostile: Record<string, string> = {
  'digits and spaces': '1 '.repeat(500_000),
  'JWT-like chains': 'eyJa.eyJ'.repeat(125_000),
  'at signs': 'a@'.repeat(500_000),
  'colons (IPv6-like)': 'a:'.repeat(500_000),
};

function mbPerSecond(scan: () => unknown, bytes: number, budgetMs = 700): number {
  scan();
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    scan();
    count++;
  }
  return (count * bytes) / 1e6 / ((performance.now() - start) / 1000);
}
const row = (name: string, value: number) => console.log(`${name.padEnd(44)} ${value.toFixed(1).padStart(8)} MB/s`);

console.log(`Node ${process.version}; 1 MB inputs; maskText (scan + replace), higher is better.\n`);
// maxScanLength is raised so the 1 MB inputs are scanned rather than replaced whole.
const all = createMasker({ recognizers: 'all', maxScanLength: 4_000_000 });
row(
  'all recognizers, realistic log text',
  mbPerSecond(() => all.maskText(realistic), realistic.length),
);
row(
  'all recognizers, text without PII',
  mbPerSecond(() => all.maskText(plainOnly), plainOnly.length),
);
console.log('\none recognizer at a time, realistic log text');
for (const label of builtinLabels) {
  const one = createMasker({ recognizers: [label as BuiltinLabel], maxScanLength: 4_000_000 });
  row(
    `  ${label}`,
    mbPerSecond(() => one.maskText(realistic), realistic.length, 300),
  );
}
console.log('\nhostile inputs, all recognizers (bounded: linear-time patterns)');
for (const [name, text] of Object.entries(hostile)) {
  row(
    `  ${name}`,
    mbPerSecond(() => all.maskText(text), text.length, 400),
  );
}

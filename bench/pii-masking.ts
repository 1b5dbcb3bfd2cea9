// Key-path masking + serialization of a 20-field record with 8 redactions: Portcullis beside fast-redact and
// @pinojs/redact in one run, then a wildcard-array case. Portcullis never mutates its input.
// Run: npx tsx bench/pii-masking.ts
import { deepStrictEqual } from 'node:assert';
import fastRedact from 'fast-redact';
import pinoRedact from '@pinojs/redact';
import { createMasker } from 'portcullis';

// The machine is shared: contenders run in alternating slices and each keeps its best slice, so a burst of
// load elsewhere hurts every contender alike instead of whichever happened to be running.
function compare(contenders: Record<string, () => unknown>, rounds = 8, sliceMs = 120): Record<string, number> {
  const best: Record<string, number> = {};
  for (const fn of Object.values(contenders)) for (let i = 0; i < 20_000; i++) fn();
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(contenders)) {
      let count = 0;
      const start = performance.now();
      let elapsed = 0;
      while (elapsed < sliceMs) {
        for (let i = 0; i < 500; i++) fn();
        count += 500;
        elapsed = performance.now() - start;
      }
      best[name] = Math.max(best[name] ?? 0, (count / elapsed) * 1000);
    }
  }
  return best;
}

function row(name: string, perSecond: number, baseline?: number, note = '') {
  const ratio = baseline ? `${(perSecond / baseline).toFixed(2)}x` : '';
  console.log(`${name.padEnd(58)} ${Math.round(perSecond).toString().padStart(9)}/s ${ratio.padStart(7)}  ${note}`);
}

// 20 fields (two of them small objects), 8 of them sensitive.
const record = () => ({
  id: 'c9b1e7f0-3c2a-4b8e-9f51-2d7a1c3e5b90',
  createdAt: '2024-05-01T10:20:30.000Z',
  updatedAt: '2024-06-11T08:00:00.000Z',
  status: 'active',
  name: 'Ada Lovelace',
  email: 'ada.lovelace@example.org',
  phone: '+44 20 7946 0958',
  ssn: '123-45-6789',
  dob: '1815-12-10',
  address: { street: '12 St James Square', city: 'London', zip: 'SW1Y 4JH', country: 'GB' },
  payment: { cardNumber: '4111111111111111', expiry: '12/29', holder: 'A LOVELACE' },
  plan: 'enterprise',
  seats: 42,
  verified: true,
  locale: 'en-GB',
  timezone: 'Europe/London',
  tags: ['vip', 'beta', 'analytics'],
  score: 98.6,
  referrer: 'newsletter',
  notes: 'Prefers email contact; renewal due in Q3.',
});
const paths = ['email', 'phone', 'ssn', 'dob', 'address.street', 'address.zip', 'payment.cardNumber', 'payment.holder'];
const censor = '[REDACTED]';

const input = record();
const frozenCopy = JSON.stringify(input);
const fast = fastRedact({ paths, censor });
const pinojs = pinoRedact({ paths, censor });
const portcullisReplace = createMasker({ paths, strategy: { kind: 'replace', with: censor } });
const portcullisRedact = createMasker({ paths });

// Same output as the peers (sanity check), and the input left as it was.
deepStrictEqual(JSON.parse(portcullisReplace.serialize(input)), JSON.parse(fast(input) as string));
deepStrictEqual(JSON.parse(portcullisReplace.serialize(input)), JSON.parse(pinojs(input) as string));
deepStrictEqual(JSON.stringify(input), frozenCopy);

console.log(`Node ${process.version}, ${paths.length} redactions in a 20-field record; higher is better.\n`);
console.log('mask + serialize (JSON string out)');
const main = compare({
  plain: () => JSON.stringify(input),
  fast: () => fast(input),
  pino: () => pinojs(input),
  ours: () => portcullisReplace.serialize(input),
  oursX: () => portcullisRedact.serialize(input),
});
const { plain, fast: fastRate, pino: pinoRate, ours, oursX } = main as Record<string, number>;
const faster = Math.max(fastRate!, pinoRate!);
row('JSON.stringify alone (no masking)', plain!);
row('fast-redact (mutates, then restores)', fastRate!, faster);
row('@pinojs/redact (selective clone)', pinoRate!, faster);
row('portcullis createMasker().serialize, censor text', ours!, faster, 'no mutation');
row("portcullis createMasker().serialize, 'X' keeping length", oursX!, faster, 'no mutation');
console.log(
  `\nportcullis / fast-redact = ${(ours! / fastRate!).toFixed(2)}x; / @pinojs/redact = ${(ours! / pinoRate!).toFixed(2)}x; ` +
    `slowdown vs the faster peer = ${(faster / ours!).toFixed(2)}x (goal ≤ 1.5x, aim ≥ fast-redact)`,
);

console.log('\nmask only (object out, no serialization)');
const pinoObject = pinoRedact({ paths, censor, serialize: false });
const objects = compare({ pino: () => pinoObject(input), ours: () => portcullisReplace.mask(input) });
const pinoObjRate = objects.pino!;
const oursObj = objects.ours!;
row('@pinojs/redact serialize:false', pinoObjRate, pinoObjRate);
row('portcullis createMasker().mask', oursObj, pinoObjRate);

console.log('\nwildcards: items[*].card over 10 items + 2 exact paths');
const order = () => ({
  id: 'o1',
  customer: { email: 'ada@example.org', name: 'Ada' },
  items: Array.from({ length: 10 }, (_, i) => ({ sku: `SKU-${i}`, qty: i + 1, card: '4111111111111111', price: 9.99 })),
  total: 99.9,
});
const wildPaths = ['items[*].card', 'customer.email', 'total'];
const orderInput = order();
const fastWild = fastRedact({ paths: wildPaths, censor });
const pinoWild = pinoRedact({ paths: wildPaths, censor });
const oursWild = createMasker({ paths: wildPaths, strategy: { kind: 'replace', with: censor } });
deepStrictEqual(JSON.parse(oursWild.serialize(orderInput)), JSON.parse(fastWild(orderInput) as string));
const wild = compare({
  fast: () => fastWild(orderInput),
  pino: () => pinoWild(orderInput),
  ours: () => oursWild.serialize(orderInput),
});
const [fw, pw, ow] = [wild.fast!, wild.pino!, wild.ours!];
row('fast-redact', fw, Math.max(fw, pw));
row('@pinojs/redact', pw, Math.max(fw, pw));
row('portcullis', ow, Math.max(fw, pw), 'no mutation');

console.log('\nkey names anywhere (cased) and recognizers on the same record (no peer offers these)');
const anywhere = createMasker({ keys: ['email', 'phone', 'ssn', 'dob', 'street', 'zip', 'cardNumber', 'holder'] });
const scanning = createMasker({ paths, recognizers: 'all' });
const extras = compare({ anywhere: () => anywhere.serialize(input), scanning: () => scanning.serialize(input) }, 4);
row('portcullis keys anywhere (**.key), serialize', extras.anywhere!, faster);
row('portcullis paths + all recognizers on every string', extras.scanning!, faster);

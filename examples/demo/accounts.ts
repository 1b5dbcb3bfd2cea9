// The demo's customer-accounts resource: its fields, validators and a deterministic seed data set.
import type { SchemaInput } from 'portcullis';

export const accountFields = {
  name: { type: 'string', required: true, minLength: 1, maxLength: 120 },
  email: { type: 'string', required: true, maxLength: 254, pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/ },
  phone: { type: 'string', maxLength: 32 },
  // Encrypted: equality and `in` go through its blind index (for callers who read it in clear); no sort.
  nationalId: { type: 'string', sortable: false, maxLength: 64 },
  status: { type: 'string', required: true, enum: ['active', 'suspended', 'closed'] },
  age: { type: 'number', min: 0, max: 150 },
  balance: { type: 'number' },
  tags: 'string[]',
  country: { type: 'string', required: true, pattern: /^[A-Z]{2}$/ },
  notes: { type: 'string', filterable: false, sortable: false, maxLength: 4000 },
  createdAt: 'date',
  updatedAt: 'date',
} satisfies SchemaInput;

/**
 * scoutr-style validators: each returns true, or `{ result: false, message }`. They see the record as it will
 * be stored, so closing an account with money on it fails whichever of the two fields a request changes.
 */
export const accountValidators = {
  // A value that is no number is left to the field's declared type, which names that problem.
  age: (value: unknown) =>
    typeof value !== 'number'
      ? true
      : !Number.isInteger(value)
        ? { result: false, message: '"age" must be a whole number of years.' }
        : value >= 18 || { result: false, message: 'account holders must be adults (18+)' },
  balance: (value: unknown, record: Record<string, unknown>) =>
    record.status !== 'closed' || value === 0 || value === undefined
      ? true
      : { result: false, message: 'a closed account must have a zero balance' },
};

const FIRST = ['Ada', 'Bruno', 'Chloé', 'Dmitri', 'Elif', 'Farah', 'Gustav', 'Hana', 'Ivo', 'Jana', 'Kofi', 'Lena'];
const LAST = ['Novak', 'Schmidt', 'Dubois', 'Rossi', 'Yilmaz', 'Haddad', 'Larsen', 'Sato', 'Petrov', 'Keller'];
const COUNTRIES = ['DE', 'FR', 'IT', 'ES', 'NL', 'US'];
const STATUSES = ['active', 'active', 'active', 'suspended', 'closed'] as const;
const TAGS = ['vip', 'newsletter', 'b2b', 'flagged', 'migrated'];

/** A small deterministic generator, so the walkthrough's answers are the same on every start. */
function sequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

export interface SeedAccount {
  id: string;
  name: string;
  email: string;
  phone: string;
  nationalId: string;
  status: string;
  age: number;
  balance: number;
  tags: string[];
  country: string;
  notes: string;
}

export function seedAccounts(count = 60): SeedAccount[] {
  const random = sequence(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  return Array.from({ length: count }, (_, index) => {
    const first = pick(FIRST);
    const last = pick(LAST);
    const status = pick(STATUSES);
    const phone = `+49 30 ${String(1_000_000 + Math.floor(random() * 8_999_999))}`;
    return {
      id: `acc_${String(index + 1).padStart(4, '0')}`,
      name: `${first} ${last}`,
      email: `${first
        .toLowerCase()
        .normalize('NFD')
        .replace(/[^a-z]/g, '')}.${last.toLowerCase()}${index}@example.com`,
      phone,
      nationalId: `${String(100 + Math.floor(random() * 800))}-${String(10 + Math.floor(random() * 89))}-${String(
        1000 + Math.floor(random() * 8999),
      )}`,
      status,
      age: 18 + Math.floor(random() * 60),
      balance: status === 'closed' ? 0 : Math.round(random() * 2_000_000) / 100,
      tags: TAGS.filter(() => random() < 0.3),
      country: index === 0 ? 'DE' : pick(COUNTRIES),
      notes:
        index % 4 === 0
          ? `Called from ${phone}; asked to send statements to ${first.toLowerCase()}@mail.example.org.`
          : 'Prefers email contact.',
    };
  });
}

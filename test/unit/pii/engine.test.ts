// The masking engine over nested objects, arrays and odd values: paths, keys, strategies, grants and annotate.
import { expect } from 'chai';
import { ConfigError } from '../../../src/errors.js';
import { createMasker } from '../../../src/pii/engine.js';

const record = () => ({
  id: 7,
  name: 'Ada',
  ssn: '123-45-6789',
  contact: { email: 'ada@example.org', phones: ['+44 20 7946 0958', null], address: { city: 'London', zip: 'N1' } },
  cards: [
    { number: '4111111111111111', holder: 'Ada' },
    { number: 5500000000000004, holder: 'Ada' },
  ],
  tags: ['vip', 42, true, null],
  empty: {},
  nothing: null,
  when: new Date('2024-01-01T00:00:00Z'),
});

describe('pii masking engine', () => {
  describe('paths', () => {
    it('masks exact paths and leaves the input untouched', () => {
      const input = record();
      const before = JSON.stringify(input);
      const masker = createMasker({ paths: ['ssn', 'contact.email', 'contact.address.zip'] });
      const out = masker.mask(input);
      expect(out.ssn).to.equal('XXXXXXXXXXX');
      expect(out.contact.email).to.equal('XXXXXXXXXXXXXXX');
      expect(out.contact.address).to.deep.equal({ city: 'London', zip: 'XX' });
      expect(JSON.stringify(input)).to.equal(before);
      expect(out.cards).to.equal(input.cards, 'unchanged subtrees are shared, not copied');
    });

    it('supports * for one level, [*] and [n] for array elements, arrays transparent to names', () => {
      const masker = createMasker({ paths: ['contact.*.zip', 'cards[*].number', 'tags[1]'] });
      const out = masker.mask(record());
      expect(out.contact.address.zip).to.equal('XX');
      expect(out.cards.map((card) => card.number)).to.deep.equal(['X'.repeat(16), 'X'.repeat(16)]);
      expect(out.tags).to.deep.equal(['vip', 'XX', true, null]);
      const transparent = createMasker({ paths: ['cards.holder'] }).mask(record());
      expect(transparent.cards.map((card) => card.holder)).to.deep.equal(['XXX', 'XXX']);
    });

    it('supports ** at any depth, including zero levels', () => {
      const masker = createMasker({ paths: ['**.zip', 'contact.**.city'] });
      const out = masker.mask({
        zip: 'A',
        deep: { deeper: [{ zip: 'BB' }] },
        contact: { city: 'X1', address: { city: 'Y22' } },
      });
      expect(out).to.deep.equal({
        zip: 'X',
        deep: { deeper: [{ zip: 'XX' }] },
        contact: { city: 'XX', address: { city: 'XXX' } },
      });
    });

    it('masks every leaf of a matched object or array, and non-string leaves', () => {
      const out = createMasker({ paths: ['contact', 'tags', 'id'] }).mask(record());
      expect(out.contact).to.deep.equal({
        email: 'X'.repeat(15),
        phones: ['X'.repeat(16), null],
        address: { city: 'XXXXXX', zip: 'XX' },
      });
      expect(out.tags).to.deep.equal(['XXX', 'XX', 'XXXX', null]);
      expect(out.id).to.equal('X');
    });

    it('leaf key names anywhere (cased), optionally case-insensitive', () => {
      const input = { SSN: '1', a: { ssn: '22', b: [{ Ssn: '333' }] } };
      expect(createMasker({ keys: ['ssn'] }).mask(input)).to.deep.equal({
        SSN: '1',
        a: { ssn: 'XX', b: [{ Ssn: '333' }] },
      });
      expect(createMasker({ keys: ['ssn'], caseInsensitive: true }).mask(input)).to.deep.equal({
        SSN: 'X',
        a: { ssn: 'XX', b: [{ Ssn: 'XXX' }] },
      });
      expect(createMasker({ paths: ['A.SSN'], caseInsensitive: true }).mask(input).a.ssn).to.equal('XX');
    });

    it('quoted keys with dots and odd characters', () => {
      const out = createMasker({ paths: ['["a.b"].c', "x['y z']"] }).mask({
        'a.b': { c: 'hide' },
        a: { b: { c: 'keep' } },
        x: { 'y z': 'q' },
      });
      expect(out).to.deep.equal({ 'a.b': { c: 'XXXX' }, a: { b: { c: 'keep' } }, x: { 'y z': 'X' } });
    });

    it('handles null, undefined, primitives, empty containers and missing paths', () => {
      const masker = createMasker({ paths: ['a.b', '**.c'], recognizers: ['email'] });
      for (const value of [null, undefined, 0, '', true, [], {}, 'plain', 12n]) {
        expect(masker.mask(value)).to.deep.equal(value);
      }
      expect(masker.mask('x@example.org')).to.equal('XXXXXXXXXXXXX');
      expect(masker.mask({ a: null, c: null })).to.deep.equal({ a: null, c: null });
      expect(masker.mask({ a: 'str', c: undefined })).to.deep.equal({ a: 'str', c: undefined });
      expect(masker.mask([{ c: 1 }, 'y@example.org', [[{ c: 'deep' }]]])).to.deep.equal([
        { c: 'X' },
        'XXXXXXXXXXXXX',
        [[{ c: 'XXXX' }]],
      ]);
    });

    it('serializes dates and other toJSON values like JSON.stringify would', () => {
      const out = createMasker({ paths: ['when'] }).mask(record());
      expect(out.when).to.equal('X'.repeat(24));
      const scanned = createMasker({ recognizers: ['email'] }).mask({
        when: new Date(0),
        invalid: new Date('not a date'),
        box: { toJSON: () => 'me@example.org' },
      });
      expect(scanned).to.deep.equal({ when: '1970-01-01T00:00:00.000Z', invalid: null, box: 'XXXXXXXXXXXXXX' });
    });

    it('writes every date as JSON.stringify does, whether its text was seen before or not', () => {
      // Dates' texts are kept by time value: equal times from other objects, far years and a subclass's own
      // toJSON must still come out as JSON.stringify writes them.
      class Day extends Date {
        override toJSON(): string {
          return this.toISOString().slice(0, 10);
        }
      }
      const masker = createMasker({ recognizers: ['email'] });
      const values = {
        a: new Date(1_733_400_000_000),
        b: new Date(1_733_400_000_000),
        early: new Date(-62_198_755_200_000),
        late: new Date(8.64e15),
        day: new Day(1_733_400_000_000),
      };
      const expected = JSON.parse(JSON.stringify(values)) as Record<string, unknown>;
      expect(masker.mask(values)).to.deep.equal(expected);
      expect(masker.mask(values)).to.deep.equal(expected);
      expect(expected.day).to.equal('2024-12-05');
    });

    it('never pollutes prototypes, even with __proto__ keys in the data', () => {
      const input = JSON.parse('{"__proto__": {"polluted": "yes"}, "ssn": "1"}') as Record<string, unknown>;
      const out = createMasker({ paths: ['ssn', '**.polluted'] }).mask(input) as Record<string, unknown>;
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
      expect(Object.hasOwn(out, '__proto__')).to.equal(true);
      expect((Object.getOwnPropertyDescriptor(out, '__proto__')!.value as { polluted: string }).polluted).to.equal(
        'XXX',
      );
    });

    it('mutates in place only when asked', () => {
      const input = record();
      const out = createMasker({ paths: ['ssn', 'cards[*].number'], mutate: true }).mask(input);
      expect(out).to.equal(input);
      expect(input.ssn).to.equal('XXXXXXXXXXX');
      expect(input.cards[1]!.number).to.equal('X'.repeat(16));
    });

    it('maskOwned changes only the top-level object or array in place, for the plan walk and the scanning walk', () => {
      for (const options of [
        { paths: ['ssn', 'cards[*].number'] },
        { paths: ['ssn'], recognizers: ['card' as const] },
      ]) {
        const input = record();
        const cards = input.cards;
        const firstCard = cards[0];
        const out = createMasker(options).maskOwned(input);
        expect(out).to.equal(input, 'the owned root is reused');
        expect(input.ssn).to.equal('XXXXXXXXXXX');
        expect(out.cards).to.not.equal(cards, 'a nested array is copied, not changed');
        expect(firstCard!.number).to.equal('4111111111111111', 'nested values are untouched');
      }
      const list = [{ ssn: '1' }, 'me@example.org'];
      const first = list[0];
      const masked = createMasker({ keys: ['ssn'], recognizers: ['email'] }).maskOwned(list);
      expect(masked).to.equal(list);
      expect(list[1]).to.equal('XXXXXXXXXXXXXX');
      expect(first).to.deep.equal({ ssn: '1' }, 'the element object was copied');
      expect(createMasker({ keys: ['ssn'], strategy: 'remove' }).maskOwned(list)).to.deep.equal([{}, 'XXXXXXXXXXXXXX']);
    });

    it('fails closed below maxDepth when rules or recognizers could reach deeper', () => {
      let deep: unknown = { ssn: 'secret' };
      for (let i = 0; i < 100; i++) deep = { next: deep };
      const out = JSON.stringify(createMasker({ keys: ['ssn'], maxDepth: 50 }).mask(deep));
      expect(out).to.include('[MASKED: too deep]').and.not.include('secret');
      const cyclic: Record<string, unknown> = { name: 'me@example.org' };
      cyclic.self = cyclic;
      expect(() => createMasker({ recognizers: ['email'] }).mask(cyclic)).to.not.throw();
    });
  });

  describe('scanPaths', () => {
    const data = () => ({
      name: 'a@b.cd',
      notes: 'mail a@b.cd',
      ssn: '123-45-6789',
      deep: { comment: 'x a@b.cd', other: 'a@b.cd', when: new Date(0) },
      list: [{ comment: 'a@b.cd' }, { Comment: 'a@b.cd' }],
    });

    it('scans only the strings at or below the given paths; path rules still apply everywhere', () => {
      const masker = createMasker({ keys: ['ssn'], recognizers: ['email'], scanPaths: ['notes', '**.comment'] });
      const input = data();
      expect(masker.mask(input)).to.deep.equal({
        name: 'a@b.cd',
        notes: 'mail XXXXXX',
        ssn: 'XXXXXXXXXXX',
        deep: { comment: 'x XXXXXX', other: 'a@b.cd', when: '1970-01-01T00:00:00.000Z' },
        list: [{ comment: 'XXXXXX' }, { Comment: 'a@b.cd' }],
      });
      expect(input).to.deep.equal(data(), 'the input is unchanged');
      expect(Object.keys(masker.annotate(input)).sort()).to.deep.equal([
        'deep.comment',
        'list[0].comment',
        'notes',
        'ssn',
      ]);
    });

    it('matches scan paths regardless of case when the masker does, and scans whole subtrees', () => {
      const masker = createMasker({ recognizers: ['email'], scanPaths: ['list'], caseInsensitive: true });
      expect(masker.mask(data()).list).to.deep.equal([{ comment: 'XXXXXX' }, { Comment: 'XXXXXX' }]);
      expect(masker.mask({ LIST: 'a@b.cd', name: 'a@b.cd' })).to.deep.equal({ LIST: 'XXXXXX', name: 'a@b.cd' });
    });

    it('refuses scan paths without recognizers, an empty list and a bad path, naming the option', () => {
      expect(() => createMasker({ scanPaths: ['notes'] })).to.throw(ConfigError, /scanPaths/);
      expect(() => createMasker({ recognizers: ['email'], scanPaths: [] })).to.throw(ConfigError, /scanPaths/);
      for (const bad of [42, null, {}])
        expect(() => createMasker({ recognizers: ['email'], scanPaths: [bad as unknown as string] })).to.throw(
          ConfigError,
          /scanPaths\[0\]: path .* must be a non-empty string/,
        );
      expect(() => createMasker({ paths: [{ path: 42 as unknown as string }] })).to.throw(ConfigError, /paths\[0\]/);
      expect(() => createMasker({ recognizers: ['email'], scanPaths: ['a..b'] })).to.throw(
        ConfigError,
        /scanPaths\[0\]/,
      );
    });
  });

  describe('strategies', () => {
    const pseudonymKey = 'k'.repeat(32);
    it('partial keeps the last N but always hides at least half', () => {
      const masker = createMasker({
        paths: [
          { path: 'card', strategy: { kind: 'partial', keepLast: 4 } },
          { path: 'pin', strategy: 'partial' },
        ],
      });
      expect(masker.mask({ card: '4111111111111111', pin: '1234' })).to.deep.equal({
        card: 'XXXXXXXXXXXX1111',
        pin: 'XX34',
      });
    });

    it('partial shows of an e-mail address at most its first character and its domain', () => {
      const masker = createMasker({
        paths: [
          { path: 'email', strategy: { kind: 'partial', keepLast: 12 } },
          { path: 'contact', strategy: { kind: 'partial', keepLast: 12, char: '*' } },
        ],
        recognizers: ['email'],
        strategies: { email: 'partial' },
      });
      expect(
        masker.mask({
          email: 'j.schneider@gmx.de',
          contact: 'Jana <jana.schneider@gmx.de>',
          note: 'write to chloé.dubois@mail.example.org or to a@b.de',
        }),
      ).to.deep.equal({
        // The length of the local part is not shown either.
        email: 'jXXX@gmx.de',
        // Not one address: the kept tail stops after the `@`.
        contact: '*********************gmx.de>',
        note: 'write to cXXX@mail.example.org or to XXX@b.de',
      });
      // A surrogate pair is one character.
      expect(masker.mask({ email: '𝒳avier@x.de' })).to.deep.equal({ email: '𝒳XXX@x.de' });
    });

    it('masks secrets (passwords, tokens, keys) to a fixed length, whatever their length', () => {
      const masker = createMasker({
        keys: ['password', 'newPassword', 'apiKey', 'email'],
        paths: [{ path: 'auth.token', strategy: { kind: 'partial', keepLast: 4 } }],
        recognizers: ['jwt', 'email'],
        caseInsensitive: true,
      });
      const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
      for (const secret of ['pw', 'hunter2', 'analyst-demo-password', 'x'.repeat(300)]) {
        expect(
          masker.mask({
            password: secret,
            PASSWORD: secret,
            body: { newPassword: secret, apiKey: secret },
            auth: { token: secret },
            note: `Bearer ${jwt}`,
          }),
          secret,
        ).to.deep.equal({
          password: 'XXXXXXXX',
          PASSWORD: 'XXXXXXXX',
          body: { newPassword: 'XXXXXXXX', apiKey: 'XXXXXXXX' },
          auth: { token: 'XXXXXXXX' },
          note: 'Bearer XXXXXXXX',
        });
      }
      // Other values keep their length: it is part of what a masked value shows.
      expect(masker.mask({ email: 'ada@example.org', passport: 'P123' })).to.deep.equal({
        email: 'XXXXXXXXXXXXXXX',
        passport: 'P123',
      });
    });

    it('pseudonym is stable, keyed and differs by key', () => {
      const a = createMasker({ keys: ['email'], strategy: { kind: 'pseudonym', prefix: 'u_' }, pseudonymKey });
      const b = createMasker({
        keys: ['email'],
        strategy: 'pseudonym',
        pseudonymKey: 'other-key-of-32-bytes-long-00000',
      });
      const one = a.mask({ email: 'ada@example.org' }).email;
      expect(one).to.match(/^u_[A-Za-z0-9_-]{16}$/);
      expect(a.mask({ x: { email: 'ada@example.org' } }).x.email).to.equal(one);
      expect(a.mask({ email: 'bob@example.org' }).email).to.not.equal(one);
      expect(b.mask({ email: 'ada@example.org' }).email).to.not.equal(one.slice(2));
    });

    it('remove drops properties, array elements and matched text', () => {
      const masker = createMasker({
        paths: ['secret', 'list[1]'],
        recognizers: ['email'],
        strategies: { email: 'remove' },
        strategy: 'remove',
      });
      expect(masker.mask({ secret: 's', keep: 1, list: ['a', 'b', 'c'], note: 'mail a@b.org now' })).to.deep.equal({
        keep: 1,
        list: ['a', 'c'],
        note: 'mail  now',
      });
    });

    it('replace and custom functions, chosen per label', () => {
      const masker = createMasker({
        paths: [{ path: 'a', label: 'secret' }, 'b'],
        recognizers: ['ipv4'],
        strategies: { secret: { kind: 'replace', with: '[REDACTED]' }, ipv4: (text) => text.replace(/\d+$/, '0') },
      });
      expect(masker.mask({ a: 'x', b: 'yy', c: 'from 10.1.2.3' })).to.deep.equal({
        a: '[REDACTED]',
        b: 'XX',
        c: 'from 10.1.2.0',
      });
    });

    it('validates options at creation with the option name and a hint', () => {
      expect(() => createMasker({ pahts: ['a'] } as never))
        .to.throw(ConfigError)
        .with.property('hint', 'did you mean paths?');
      expect(() => createMasker({ paths: ['a..b'] }))
        .to.throw(ConfigError)
        .with.property('option', 'paths[0]');
      expect(() => createMasker({ paths: ['a.__proto__'] })).to.throw(/never data/);
      expect(() => createMasker({ paths: ['a[x]'] })).to.throw(/invalid bracket/);
      expect(() => createMasker({ paths: ['a.b*'] })).to.throw(/inside a name/);
      expect(() => createMasker({ keys: ['x'], strategy: 'pseudonym' })).to.throw(/pseudonymKey/);
      expect(() => createMasker({ strategy: 'redcat' as never }))
        .to.throw(ConfigError)
        .with.property('hint', 'did you mean redact?');
      expect(() => createMasker({ pseudonymKey: 'short' })).to.throw(/16 bytes/);
    });
  });

  describe('grants', () => {
    const masker = createMasker({ paths: ['ssn', 'contact.email'], keys: ['zip'], recognizers: ['phone', 'email'] });
    it('a field grant unmasks that field and skips scanning it', () => {
      const out = masker.mask(record(), { fields: ['contact'] });
      expect(out.contact.email).to.equal('ada@example.org');
      expect(out.contact.phones[0]).to.equal('+44 20 7946 0958');
      expect(out.ssn).to.equal('XXXXXXXXXXX');
    });

    it('a grant may name a rule pattern or key name, or a label', () => {
      expect(masker.mask(record(), { fields: ['zip'] }).contact.address.zip).to.equal('N1');
      expect(masker.mask(record(), { fields: ['contact.email'] }).contact.email).to.equal('ada@example.org');
      const labels = masker.mask(record(), { labels: ['phone'] });
      expect(labels.contact.phones[0]).to.equal('+44 20 7946 0958');
      expect(labels.contact.email).to.equal('X'.repeat(15));
    });

    it('an unparsable grant grants nothing', () => {
      expect(masker.mask(record(), { fields: ['..'] }).ssn).to.equal('XXXXXXXXXXX');
    });
  });

  describe('annotate', () => {
    it('reports cased-style ranges by concrete path without changing values', () => {
      const masker = createMasker({
        paths: [{ path: 'ssn', label: 'national-id' }, 'cards[*].number'],
        recognizers: ['email'],
      });
      const input = record();
      const annotations = masker.annotate(input);
      expect(annotations).to.deep.equal({
        ssn: [{ label: 'national-id', begin: 0, end: 11 }],
        'contact.email': [{ label: 'email', begin: 0, end: 15 }],
        'cards[0].number': [{ label: 'cards[*].number', begin: 0, end: 16 }],
        'cards[1].number': [{ label: 'cards[*].number', begin: 0, end: 16 }],
      });
      expect(input.ssn).to.equal('123-45-6789');
      expect(masker.annotate('write to x@example.org')).to.deep.equal({ '': [{ label: 'email', begin: 9, end: 22 }] });
    });
  });

  it('with nothing configured returns its input as is', () => {
    const masker = createMasker();
    const input = record();
    expect(masker.inert).to.equal(true);
    expect(masker.mask(input)).to.equal(input);
  });
});

describe('pii masking engine: the fast plan agrees with the general walk', () => {
  // A grant that unmasks nothing forces the general state-set walk; without it, exact configurations use the plan.
  const nothing = { labels: ['no-such-label'] };
  const keys = ['a', 'b', 'c', 'd'];
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  function value(depth: number): unknown {
    const roll = random();
    if (depth > 3 || roll < 0.3) return pick(['s', 12, null, true, 'long text', undefined]);
    if (roll < 0.55) return Array.from({ length: 1 + Math.floor(random() * 3) }, () => value(depth + 1));
    return Object.fromEntries(keys.filter(() => random() < 0.7).map((key) => [key, value(depth + 1)]));
  }
  function path(): string {
    const length = 1 + Math.floor(random() * 3);
    return Array.from({ length }, () => (random() < 0.2 ? `${pick(keys)}[*]` : pick(keys))).join('.');
  }
  it('on 500 random objects and path sets', () => {
    for (let i = 0; i < 500; i++) {
      const paths = Array.from({ length: 1 + Math.floor(random() * 4) }, path);
      const strategy = random() < 0.2 ? ('remove' as const) : ('redact' as const);
      const masker = createMasker({ paths, strategy });
      const input = value(0);
      const before = JSON.stringify(input);
      expect(masker.mask(input), `${paths.join(' ')} on ${before}`).to.deep.equal(masker.mask(input, nothing));
      expect(JSON.stringify(input)).to.equal(before);
    }
  });
});

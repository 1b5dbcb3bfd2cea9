// Each built-in recognizer on true and false positives, the checksums, custom recognizers and hostile input.
import { expect } from 'chai';
import { ConfigError } from '../../../src/errors.js';
import {
  builtinLabels,
  builtinRecognizer,
  compileRecognizers,
  countDigits,
  scanText,
  type BuiltinLabel,
} from '../../../src/pii/recognizers.js';
import { cardPrefix, cardValid, ibanValid, luhnValid, ssnValid } from '../../../src/pii/validators.js';
import { createMasker } from '../../../src/pii/engine.js';
import { prng } from '../../support/prng.js';

/**
 * The groups of a regex source that backtrack beyond a constant: a group repeated without bound (`*`, `+`,
 * `{m,}`), or repeated at all while holding an unbounded repetition. Character classes and escapes are skipped.
 */
function nestedQuantifiers(source: string): string[] {
  const found: string[] = [];
  const open: { start: number; unbounded: boolean }[] = [];
  const markUnbounded = () => {
    if (open.length > 0) open[open.length - 1]!.unbounded = true;
  };
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '\\') {
      i++;
    } else if (char === '[') {
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
    } else if (char === '(') {
      open.push({ start: i, unbounded: false });
    } else if (char === ')') {
      const group = open.pop()!;
      const repeat = /^(?:[*+]|\{(\d+)(,(\d*))?\})/.exec(source.slice(i + 1));
      const unboundedRepeat = repeat !== null && (repeat[1] === undefined || repeat[3] === '');
      const max = repeat === null ? 1 : unboundedRepeat ? Infinity : Number(repeat[3] ?? repeat[1]);
      if (unboundedRepeat || (max > 1 && group.unbounded)) found.push(source.slice(group.start, i + 1));
      if (unboundedRepeat || group.unbounded) markUnbounded();
    } else if (char === '*' || char === '+' || (char === '{' && /^\{\d+,\}/.test(source.slice(i)))) {
      markUnbounded();
    }
  }
  return found;
}

function found(label: BuiltinLabel, text: string): string[] {
  return scanText(text, [builtinRecognizer(label)]).map((d) => text.slice(d.begin, d.end));
}

const cases: Record<BuiltinLabel, { hits: [string, string][]; misses: string[] }> = {
  email: {
    hits: [
      ['write to bob.smith+tag@example.co.uk today', 'bob.smith+tag@example.co.uk'],
      ['<ALICE@Mail.Example.COM>', 'ALICE@Mail.Example.COM'],
      // Internationalised addresses (RFC 6531): letters, marks and digits of any script, whole.
      ['asked to send statements to chloé@mail.example.org.', 'chloé@mail.example.org'],
      ['order from user@bücher.de today', 'user@bücher.de'],
      ['josé.garcía@correo.es', 'josé.garcía@correo.es'],
      ['e\u0301tienne@exemple.fr', 'e\u0301tienne@exemple.fr'],
      ['mail 例え@例え.テスト ok', '例え@例え.テスト'],
      ['пример@пример.рф', 'пример@пример.рф'],
      // Punycode labels and TLDs.
      ['x@xn--bcher-kva.de', 'x@xn--bcher-kva.de'],
      ['(a@xn--e1afmkfd.xn--p1ai)', 'a@xn--e1afmkfd.xn--p1ai'],
      // Invisible characters, many labels, `_` in a label, RFC 5322 punctuation (an outside review's cases).
      ['us\u200ber@example.com', 'us\u200ber@example.com'],
      ['user@exam\u200bple.com', 'user@exam\u200bple.com'],
      ['user\u00ad@example.com', 'user\u00ad@example.com'],
      ['a@b.c.d.e.f.g.h.i.j.k.l.com', 'a@b.c.d.e.f.g.h.i.j.k.l.com'],
      ['user@sub_domain.example.com', 'user@sub_domain.example.com'],
      ["mail o'brien@example.com now", "o'brien@example.com"],
      ['first!last@example.com', 'first!last@example.com'],
    ],
    misses: ['user@localhost', 'not an @ email', 'a@b.c', '@example.com', 'x@bücher.d', 'x@host.xn--'],
  },
  phone: {
    hits: [
      ['call +44 20 7946 0958 now', '+44 20 7946 0958'],
      ['(555) 123-4567', '(555) 123-4567'],
      ['tel 555.123.4567.', '555.123.4567'],
      ['+14155552671', '+14155552671'],
      ['Called from +49 30 1860819; asked', '+49 30 1860819'],
      ['mobile +49 151 12345678.', '+49 151 12345678'],
      // The trunk prefix, a glued area code, parentheses, slashes.
      ['call +49 (0)30 1234567 now', '+49 (0)30 1234567'],
      ['call +4930 1234567 now', '+4930 1234567'],
      ['+44 (0) 20 7946 0958', '+44 (0) 20 7946 0958'],
      ['Tel. +49 (0) 30 / 1234567', '+49 (0) 30 / 1234567'],
      ['(+49) 30 1234567', '(+49) 30 1234567'],
      ['+1 (415) 555-2671', '+1 (415) 555-2671'],
      ['+49-30-1234567', '+49-30-1234567'],
      ['+49/30/1234567', '+49/30/1234567'],
      ['+33 6.12.34.56.78', '+33 6.12.34.56.78'],
      // Figures after a number are not part of it, and do not make it fail the 15-digit limit.
      ['Tel +49 30 12345678 2024 12 Uhr', '+49 30 12345678'],
      ['(+49) 30 1234567 (2) 12345', '(+49) 30 1234567 (2)'],
      // The international call prefix 00 for the +, and a parenthesised area code with no space after it.
      ['call 0049 30 1234567 now', '0049 30 1234567'],
      ['0044 (0)20 7946 0958', '0044 (0)20 7946 0958'],
      ['(0049) 30 1234567', '(0049) 30 1234567'],
      ['001-415-555-2671.', '001-415-555-2671'],
      ['(555)123-4567', '(555)123-4567'],
      ['call (555)123.4567 today', '(555)123.4567'],
      // Other spaces and dashes, a spaced call prefix or plus, a leading 1, full-width and Arabic-Indic
      // digits (an outside review's cases).
      ['+49\u00a030\u00a01234567', '+49\u00a030\u00a01234567'],
      ['+33\u202f6\u202f12\u202f34\u202f56\u202f78', '+33\u202f6\u202f12\u202f34\u202f56\u202f78'],
      ['+49\u201330\u20131234567', '+49\u201330\u20131234567'],
      ['+49\t30\t1234567', '+49\t30\t1234567'],
      ['+49  30  1234567', '+49  30  1234567'],
      ['00 49 30 1234567', '00 49 30 1234567'],
      ['call 1-555-123-4567', '1-555-123-4567'],
      ['+ 49 30 1234567', '+ 49 30 1234567'],
      ['\uff0b49 30 1234567', '\uff0b49 30 1234567'],
      [
        '+\u0664\u0669 \u0663\u0660 \u0661\u0662\u0663\u0664\u0665\u0666\u0667',
        '+\u0664\u0669 \u0663\u0660 \u0661\u0662\u0663\u0664\u0665\u0666\u0667',
      ],
      ['+49 30 123\ufe0f4567', '+49 30 123\ufe0f4567'],
      ['+49 30 1234\u0301567', '+49 30 1234\u0301567'],
      // A letter or underscore glued to it does not hide it.
      ['+49 30 1234567a', '+49 30 1234567'],
      ['555-123-4567x', '555-123-4567'],
      ['call+49301234567now', '+49301234567'],
      ['+1 555 123 4567_', '+1 555 123 4567'],
    ],
    misses: [
      'on 2024-01-15',
      'version 1.2.3',
      'id 1234567',
      'ssn 123-45-6789',
      '+12 3',
      // Amounts, dates, timestamps, versions, ids: with a sign, an offset or a build suffix.
      'balance +12345678.90 EUR',
      'up +10.000.000',
      'total +1234.56 EUR',
      '+1,234,567.89',
      'from +2024-01-15',
      'at 2024-01-15T10:00:00+01:00',
      'at 2024-01-15T10:00:00.123+0100',
      'release 1.0.0+20130313144700',
      'build 2.4.1+build.20240115',
      'UTC+10 / 2024',
      'order 2024/01/15 12:30',
      'ref 12345678/2024',
      'v10.20.30.40',
      '+0049 30 1234567',
      '+ 12345678.90',
      // A run of digits that starts with 00 but has no groups, or too few digits after the prefix.
      'ref 0049301234567',
      'code 0012 3456',
      'at 00:15 on 2024-01-15',
      'x 1000 4930 1234',
    ],
  },
  card: {
    hits: [
      ['visa 4111 1111 1111 1111 exp', '4111 1111 1111 1111'],
      ['mc 5500-0000-0000-0004', '5500-0000-0000-0004'],
      ['amex 378282246310005', '378282246310005'],
      // A letter and a dash or underscore before the number do not protect it.
      ['ref a-4111111111111111 /', '4111111111111111'],
      ['card-4111-1111-1111-1111', '4111-1111-1111-1111'],
      // Dotted groups, as some forms print them.
      ['card 4111.1111.1111.1111.', '4111.1111.1111.1111'],
      ['amex 3782.822463.10005', '3782.822463.10005'],
      // Figures after the number (its security code, its expiry), other separators and spaces, invisible
      // characters and other digits (an outside review's cases).
      ['Card 4111 1111 1111 1111 123, thanks', '4111 1111 1111 1111'],
      ['4111 1111 1111 1111 12/27', '4111 1111 1111 1111'],
      ['4111111111111111 12', '4111111111111111'],
      ['4111-1111-1111-1111-123', '4111-1111-1111-1111'],
      ['5555 5555 5555 4444 999', '5555 5555 5555 4444'],
      ['3782 822463 10005 12', '3782 822463 10005'],
      ['4111/1111/1111/1111', '4111/1111/1111/1111'],
      ['4111_1111_1111_1111', '4111_1111_1111_1111'],
      ['4111 1111-1111/1111', '4111 1111-1111/1111'],
      ['4111\u00a01111\u00a01111\u00a01111', '4111\u00a01111\u00a01111\u00a01111'],
      ['4111\t1111\n1111  1111', '4111\t1111\n1111  1111'],
      ['4111\u200b1111 1111 1111', '4111\u200b1111 1111 1111'],
      ['4111\u20131111\u20131111\u20131111', '4111\u20131111\u20131111\u20131111'],
      [
        '\uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11',
        '\uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11',
      ],
      // What does not show on its own: variation selectors, joiners, fillers, tags, combining marks.
      ['4111\ufe0f111111111111', '4111\ufe0f111111111111'],
      ['4111\u034f1111 1111 1111', '4111\u034f1111 1111 1111'],
      ['4111\u{e0020}111111111111', '4111\u{e0020}111111111111'],
      ['4111\u3164111111111111', '4111\u3164111111111111'],
      ['4\u03011\u03011\u03011111111111111', '4\u03011\u03011\u03011111111111111'],
    ],
    misses: [
      '4111 1111 1111 1112',
      '1234567812345678',
      '0000000000000000',
      'order 12345',
      '4111.1111.1111.1112',
      // A decimal number with a Luhn-valid run of digits, and a longer dotted run, are no card.
      'pi 4.111111111111111',
      '4111.1111.1111.1111.1111',
    ],
  },
  iban: {
    hits: [
      ['pay GB82 WEST 1234 5698 7654 32 please', 'GB82 WEST 1234 5698 7654 32'],
      ['DE89370400440532013000', 'DE89370400440532013000'],
      ['FR1420041010050500013M02606', 'FR1420041010050500013M02606'],
      // Any case: the checksum is over the capital form.
      ['iban de89 3704 0044 0532 0130 00.', 'de89 3704 0044 0532 0130 00'],
      ['de89370400440532013000', 'de89370400440532013000'],
      ['gb82 West 1234 5698 7654 32', 'gb82 West 1234 5698 7654 32'],
      // Other separators and groupings, other spaces, words after it (an outside review's cases).
      ['DE89-3704-0044-0532-0130-00', 'DE89-3704-0044-0532-0130-00'],
      ['GB82-WEST-1234-5698-7654-32.', 'GB82-WEST-1234-5698-7654-32'],
      ['iban DE 89 3704 0044 0532 0130 00', 'DE 89 3704 0044 0532 0130 00'],
      ['DE89 370 400 440 532 013 000', 'DE89 370 400 440 532 013 000'],
      ['DE89.3704.0044.0532.0130.00', 'DE89.3704.0044.0532.0130.00'],
      ['DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000', 'DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000'],
      ['DE89 3704\u200b0044 0532 0130 00', 'DE89 3704\u200b0044 0532 0130 00'],
      ['DE89 3704 0044 0532 0130 00 is mine', 'DE89 3704 0044 0532 0130 00'],
      // A country outside the length table: the longest run that passes the check.
      ['BI42 1000 0100 0100 0033 2045 181 paid', 'BI42 1000 0100 0100 0033 2045 181'],
      ['DE89\ufe0f370400440532013000', 'DE89\ufe0f370400440532013000'],
      ['DE89\u03013704 0044 0532 0130 00', 'DE89\u03013704 0044 0532 0130 00'],
      ['D E 8 9 3 7 0 4 0 0 4 4 0 5 3 2 0 1 3 0 0 0.', 'D E 8 9 3 7 0 4 0 0 4 4 0 5 3 2 0 1 3 0 0 0'],
      ['D-E-8-9-3-7-0-4-0-0-4-4-0-5-3-2-0-1-3-0-0-0', 'D-E-8-9-3-7-0-4-0-0-4-4-0-5-3-2-0-1-3-0-0-0'],
    ],
    misses: [
      'GB82 WEST 1234 5698 7654 33',
      'DE89370400440532013001',
      'XX00 1234 5678 9012',
      'GB82WEST12345698765432X',
      'de89 3704 0044 0532 0130 01',
      'ab12 cdef ghij klmn',
      'de12 this is a sentence of words',
    ],
  },
  ssn: {
    hits: [
      ['ssn 123-45-6789.', '123-45-6789'],
      ['772 12 3456', '772 12 3456'],
      ['id-702-71-5689', '702-71-5689'],
    ],
    misses: [
      '000-12-3456',
      '666-12-3456',
      '900-12-3456',
      '999-12-3456',
      '123-00-4567',
      '123-45-0000',
      '123-45 6789',
      '1123-45-6789',
    ],
  },
  ipv4: {
    hits: [
      ['from 192.168.0.1:8080', '192.168.0.1'],
      ['10.0.0.255', '10.0.0.255'],
    ],
    misses: ['256.1.1.1', '1.2.3', 'v1.2.3.4.5', '01.2.3.4.5'],
  },
  ipv6: {
    hits: [
      ['addr 2001:db8::8a2e:370:7334 ok', '2001:db8::8a2e:370:7334'],
      ['fe80::1', 'fe80::1'],
    ],
    misses: ['at 12:30:45', 'a::b::c', 'std::vector', '::'],
  },
  jwt: {
    hits: [
      [
        'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
        'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      ],
    ],
    misses: ['eyJhbGciOiJIUzI1NiJ9 only', 'abc.def.ghi'],
  },
  secret: {
    hits: [
      ['key AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
      ['ghp_' + 'a'.repeat(36), 'ghp_' + 'a'.repeat(36)],
      ['sk_live_' + 'Z9'.repeat(12), 'sk_live_' + 'Z9'.repeat(12)],
      ['-----BEGIN RSA PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----'],
    ],
    misses: ['AKIA123', 'ghp_short', 'sk_live_', 'BEGIN PUBLIC KEY'],
  },
};

describe('pii recognizers', () => {
  for (const [label, { hits, misses }] of Object.entries(cases) as [BuiltinLabel, (typeof cases)[BuiltinLabel]][]) {
    describe(label, () => {
      for (const [text, expected] of hits) {
        it(`finds "${expected.slice(0, 40)}"`, () => expect(found(label, text)).to.deep.equal([expected]));
      }
      for (const text of misses) {
        it(`ignores "${text.slice(0, 40)}"`, () => expect(found(label, text)).to.deep.equal([]));
      }
    });
  }

  it('checks Luhn, IBAN mod 97 and SSN ranges directly', () => {
    expect(luhnValid('79927398713')).to.equal(true);
    expect(luhnValid('79927398710')).to.equal(false);
    expect(cardValid('4012888888881881')).to.equal(true);
    expect(cardValid('4012888888881882')).to.equal(false);
    expect(cardValid('1111111111111')).to.equal(false);
    expect(ibanValid('NL91ABNA0417164300')).to.equal(true);
    expect(ibanValid('NL91ABNA0417164301')).to.equal(false);
    expect(ibanValid('NL91ABNA04171643')).to.equal(false, 'wrong length for NL');
    expect(ssnValid('078-05-1120')).to.equal(true);
    expect(ssnValid('666-05-1120')).to.equal(false);
  });

  it('skips a regex only when its prefilter proves it cannot match', () => {
    // Every hit and miss above, each shortened from both ends and glued to neighbours: the prefilter may
    // only ever save work, never change a detection.
    const texts = Object.values(cases).flatMap(({ hits, misses }) => [
      ...hits.flatMap(([text, hit]) => [text, hit]),
      ...misses,
    ]);
    const variants = texts.flatMap((text) => [
      text,
      ...Array.from({ length: text.length }, (_, cut) => text.slice(cut)),
      ...Array.from({ length: text.length }, (_, cut) => text.slice(0, cut)),
      `${text} ${texts[0]}`,
    ]);
    const all = compileRecognizers('all');
    const unfiltered = all.map(({ mayMatch: _skip, minLength: _shortest, ...recognizer }) => recognizer);
    expect(all.every((recognizer) => typeof recognizer.mayMatch === 'function')).to.equal(true);
    expect(all.every((recognizer) => typeof recognizer.minLength === 'number')).to.equal(true);
    let skipped = 0;
    for (const text of variants) {
      expect(scanText(text, all), text).to.deep.equal(scanText(text, unfiltered));
      skipped += all.filter(
        (recognizer) => text.length < recognizer.minLength! || !recognizer.mayMatch!(text, countDigits(text)),
      ).length;
    }
    expect(skipped).to.be.greaterThan(variants.length);
  });

  it('counts ASCII digits only, and still scans one-character strings for a custom recognizer', () => {
    expect(countDigits('a1b22 ٣')).to.deep.equal({
      total: 3,
      inDashedRun: 2,
      inPhoneRun: 2,
      upperRun: 0,
      letterRun: 1,
    });
    expect(countDigits('call +1 (555) 123-4567.x 12')).to.deep.equal({
      total: 13,
      inDashedRun: 7,
      inPhoneRun: 11,
      upperRun: 0,
      letterRun: 4,
    });
    expect(countDigits('+49 (0) 30 / 1234567').inPhoneRun).to.equal(12);
    expect(countDigits('DE89 3704 AKIAx').upperRun).to.equal(4);
    expect(countDigits('de89 3704 AKIAx@[`{').letterRun).to.equal(5);
    // A UUID has many digits, but never a run that a card, SSN or phone number needs.
    const uuid = countDigits('2c87978f-4afc-4777-aed2-9fd6678391e8');
    expect(uuid.total).to.be.greaterThan(13);
    expect(uuid.inDashedRun).to.be.lessThan(9);
    expect(uuid.inPhoneRun).to.be.lessThan(8);
    const masker = createMasker({ recognizers: ['email', { label: 'grade', pattern: /\bK\b/ }] });
    expect(masker.mask({ grade: 'K', country: 'DE' })).to.deep.equal({ grade: 'X', country: 'DE' });
  });

  it('gives overlaps to the recognizer listed first', () => {
    const text = 'card 4111 1111 1111 1111 and mail me@example.org';
    const detections = scanText(text, compileRecognizers('all'));
    expect(detections.map((d) => d.label)).to.deep.equal(['card', 'email']);
  });

  it('finds the longest card number at the start of a match as cardValid would, in one pass', () => {
    const random = prng(4111);
    for (let round = 0; round < 20_000; round++) {
      let text = '';
      const length = 10 + Math.floor(random() * 15);
      for (let i = 0; i < length; i++) text += String(Math.floor(random() * 10)) + (random() < 0.2 ? ' ' : '');
      let expected = 0;
      let digits = 0;
      for (let i = 0; i < text.length && digits < 19; i++) {
        if (text[i] === ' ') continue;
        if (++digits >= 13 && cardValid(text.slice(0, i + 1))) expected = i + 1;
      }
      expect(cardPrefix(text), text).to.equal(expected);
    }
  });

  it('finds one card after another in a run of digits and separators', () => {
    const found = (text: string) => scanText(text, [builtinRecognizer('card')]).map((d) => text.slice(d.begin, d.end));
    expect(found('cards 4111111111111111 5500000000000004 378282246310005')).to.deep.equal([
      '4111111111111111',
      '5500000000000004',
      '378282246310005',
    ]);
    expect(found('4111 1111 1111 1111 4111 1111 1111 1111')).to.deep.equal([
      '4111 1111 1111 1111',
      '4111 1111 1111 1111',
    ]);
    expect(found('4111-1111-1111-1111 12/29 5500 0000 0000 0004')).to.deep.equal([
      '4111-1111-1111-1111',
      '5500 0000 0000 0004',
    ]);
    // Never the digits after a decimal point.
    expect(found('ratio 12.4111111111111111')).to.deep.equal([]);
  });

  it('masks the union of overlapping matches, in whatever order the recognizers are listed', () => {
    // A phone number written with the 00 call prefix inside an IBAN's groups: the IBAN must not keep its head.
    const iban = 'iban de89 3704 0044 0532 0130 00.';
    for (const order of [
      ['phone', 'iban'],
      ['iban', 'phone'],
    ] as const) {
      const detections = scanText(iban, compileRecognizers(order));
      expect(
        detections.map((d) => iban.slice(d.begin, d.end)),
        order.join(),
      ).to.deep.equal(['de89 3704 0044 0532 0130 00']);
      expect(detections[0]!.label).to.equal(order[0]);
    }
    // Property: every character a recognizer finds on its own is covered when all run together.
    const fragments = [
      'DE89 3704 0044 0532 0130 00',
      'gb82west12345698765432',
      '0049 30 1234567',
      '+44 20 7946 0958',
      '(555)123-4567',
      '4111 1111 1111 1111',
      '123-45-6789',
      'ana@example.org',
      '10.0.0.1',
      '::1',
      '0044',
      ' ',
      ', ',
      '.',
      '-',
      'x',
    ];
    const random = prng(20261205);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    for (let round = 0; round < 300; round++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 8) }, () => pick(fragments)).join(
        pick(['', ' ', '-']),
      );
      const labels = [...builtinLabels].sort(() => random() - 0.5);
      const covered = (detections: { begin: number; end: number }[]) => {
        const set = new Set<number>();
        for (const { begin, end } of detections) for (let at = begin; at < end; at++) set.add(at);
        return set;
      };
      const together = covered(scanText(text, compileRecognizers(labels)));
      for (const label of labels) {
        for (const at of covered(scanText(text, [builtinRecognizer(label)]))) {
          expect(together.has(at), `round ${round}: ${label} at ${at} of ${JSON.stringify(text)} (${labels.join()})`).to
            .be.true;
        }
      }
    }
  });

  describe('custom recognizers', () => {
    it('label, pattern and validator', () => {
      const [employee] = compileRecognizers([
        { label: 'employee-id', pattern: /EMP-\d{6}/, validate: (match) => !match.endsWith('000000') },
      ]);
      const text = 'EMP-123456 and EMP-000000';
      expect(scanText(text, [employee!])).to.deep.equal([{ label: 'employee-id', begin: 0, end: 10 }]);
    });

    it('accepts a string pattern and keeps the i flag of a RegExp', () => {
      const [a, b] = compileRecognizers([
        { label: 'ticket', pattern: 'TCK-[0-9]{4}' },
        { label: 'code', pattern: /code-[a-z]{3}/i },
      ]);
      expect(scanText('TCK-1234 CODE-ABC', [a!, b!]).map((d) => d.label)).to.deep.equal(['ticket', 'code']);
    });

    for (const pattern of ['(a)\\1', '\\k<n>(?<n>a)', '(?<=x)a', 'a(?!b)', 'a(?=b)']) {
      it(`refuses ${pattern}, which has no linear-time form, naming the pattern`, () => {
        expect(() => compileRecognizers([{ label: 'bad', pattern }]))
          .to.throw(ConfigError, pattern)
          .with.property('code', 'pii.unsupported_pattern');
      });
    }

    it('accepts shapes that backtrack in JavaScript: they run on the linear-time engine', function () {
      this.timeout(2000);
      const patterns = ['[a-z]+@[a-z]+', '(?:ab){2,4}', '(abc)+', 'x(?:a|b)y', '(a+)+$', '(x+x+)+y', '(\\w+\\s?)*x'];
      const compiled = compileRecognizers(patterns.map((pattern, index) => ({ label: `p${index}`, pattern })));
      expect(compiled).to.have.length(patterns.length);
      expect(scanText('a'.repeat(50_000) + '!', compiled)).to.deep.equal([]);
    });

    it('[a-z]+[a-z]+[a-z]+@ masks 1 000 000 characters within a second', function () {
      this.timeout(1000);
      const masker = createMasker({ recognizers: [{ label: 'handle', pattern: '[a-z]+[a-z]+[a-z]+@' }] });
      expect(masker.maskText('a'.repeat(1_000_000))).to.have.length(1_000_000);
      // Where a match is, the engine walks every candidate start before it: about a microsecond a character.
      const text = `${'a'.repeat(99_990)} abcd@ xyz`;
      expect(masker.maskText(text)).to.not.include('abcd@');
    });

    it('a scan with many matches that would take quadratic time masks the whole text instead, within a second', function () {
      this.timeout(1000);
      // Each search for a.*z runs to the end before the `a` branch matches: 20 000 searches of the whole text.
      const masker = createMasker({ recognizers: [{ label: 'q', pattern: 'a.*z|a' }] });
      const text = `${'a'.repeat(20_000)}b`;
      expect(masker.maskText(text)).to.equal('X'.repeat(text.length));
      // Texts it can scan are masked match by match as before.
      expect(masker.maskText('xa ab')).to.equal('xX Xb');
    });

    it('names unknown built-ins, empty matches and bad labels', () => {
      expect(() => compileRecognizers(['emial' as BuiltinLabel])).to.throw(/not a built-in.*email/);
      expect(() => compileRecognizers([{ label: 'e', pattern: 'a*' }])).to.throw(/empty string/);
      expect(() => compileRecognizers([{ label: '', pattern: 'a' }])).to.throw(ConfigError);
      expect(() => compileRecognizers([{ label: 'x', pattern: '(' }])).to.throw(/invalid regular expression \/\(\//);
    });
  });

  it('has no nested quantifier: a repeated group holds only bounded repetitions', () => {
    for (const label of builtinLabels) {
      const source = builtinRecognizer(label).regex.source;
      expect(nestedQuantifiers(source), `${label}: ${source}`).to.deep.equal([]);
    }
    // The check itself finds what it looks for.
    expect(nestedQuantifiers('(?:a+b){2}')).to.deep.equal(['(?:a+b)']);
    expect(nestedQuantifiers('x(?:a(?:b*)c)?[(+]+')).to.deep.equal([]);
    expect(nestedQuantifiers('(a[+*]{1,3})+')).to.deep.equal(['(a[+*]{1,3})']);
    expect(nestedQuantifiers('(a\\)[+]{1,3}){0,4}')).to.deep.equal([]);
    expect(nestedQuantifiers('(?:(?:a{2,}))')).to.deep.equal([]);
    expect(nestedQuantifiers('(?:(?:a{2,})){3}')).to.deep.equal(['(?:(?:a{2,}))']);
  });

  describe('hostile input finishes within a bound (1 000 000 characters, then 100 000)', function () {
    this.timeout(10_000);
    const size = 1_000_000;
    // About 60 ms each here for 1 MB; the bound leaves room for a loaded shared machine.
    const boundMs = 1500;
    const inputs: Record<string, string> = {
      'nested JWT heads': 'eyJ'.repeat(size / 3),
      'JWT-like chains': 'eyJa.eyJ'.repeat(size / 8),
      'at signs': 'a@'.repeat(size / 2),
      'long local parts': ('a'.repeat(60) + '@b.').repeat(size / 63),
      'spaced digits': '1 '.repeat(size / 2),
      'a digit run': '7'.repeat(size),
      'phone prefixes': '+1 2'.repeat(size / 4),
      colons: ':'.repeat(size),
      'hex and colons': 'a:'.repeat(size / 2),
      'dotted digits': '1.'.repeat(size / 2),
      'IBAN heads': 'GB82 '.repeat(size / 5),
      'SSN heads': '123-45-'.repeat(size / 7),
      'key prefixes': 'ghp_sk_live_xoxb-'.repeat(size / 17),
      'an accented run, then an address': `${'é'.repeat(size - 6)}@ü.de`,
      'an at sign, then an accented run': `@${'é'.repeat(size - 1)}`,
      'accented at signs': 'é@'.repeat(size / 2),
      'long accented local parts': ('ü'.repeat(60) + '@ß.').repeat(size / 63),
      'many domain labels': `a@${'b.'.repeat(size / 2 - 1)}`,
      'unicode domain labels': `a@${'ü-'.repeat(size / 2 - 1)}`,
      'punycode heads': 'a@b.xn--'.repeat(size / 8),
      'a run of dots, then an address': `${'.'.repeat(size - 5)}@b.de`,
      'phone separators': '+1 / '.repeat(size / 5),
      'trunk prefixes': '+1(0)'.repeat(size / 5),
      'parenthesised groups': '+1 (2) 3'.repeat(size / 8),
      'parenthesised country codes': '(+1)'.repeat(size / 4),
      'a plus, then digits': `+${'1'.repeat(size - 1)}`,
      'eight-digit groups': `+1${' 12345678'.repeat(size / 9 - 1)}`,
      'slashed digits': '1/'.repeat(size / 2),
      'lower-case IBAN heads': 'de89 '.repeat(size / 5),
      'a lower-case IBAN body': `de89${' 3704'.repeat(size / 5 - 1)}`,
      'letters and digits': 'ab12'.repeat(size / 4),
      'call prefixes': '0049 '.repeat(size / 5),
      'a call prefix, then digit groups': `001${' 2'.repeat(size / 2 - 2)}`,
      'parenthesised call prefixes': '(001)'.repeat(size / 5),
      'parenthesised area codes': '(555)'.repeat(size / 5),
      // Folded before scanning: other spaces, invisible characters, dashes, full-width and other digits.
      'no-break spaces': '1\u00a0'.repeat(size / 2),
      'zero-width spaces': '\u200b'.repeat(size),
      'digits and zero-width spaces': '1\u200b'.repeat(size / 2),
      'Arabic-Indic digits': '\u0661'.repeat(size),
      'full-width digits and spaces': '\uff11 '.repeat(size / 2),
      'en dashes between digits': '1\u2013'.repeat(size / 2),
      'spaces and tabs': ' \t'.repeat(size / 2),
      'dashed IBAN heads': 'DE89-'.repeat(size / 5),
      'slashed card groups': '4111/'.repeat(size / 5),
      'spaced plus signs': '+ 1'.repeat(size / 3),
      'spaced call prefixes': '00 4'.repeat(size / 4),
      'RFC local parts': "o'b!".repeat(size / 4),
      'digits with combining marks': '1\u0301'.repeat(size / 2),
      'digits with variation selectors': '4\ufe0f'.repeat(size / 2),
      'IBAN heads spaced per character': 'D E 8 9 '.repeat(size / 8),
      'glued phone numbers': '+1 555 123 4567a'.repeat(size / 16),
      'cards after cards': '4111111111111111 '.repeat(size / 17),
    };
    const masker = createMasker({ recognizers: 'all' });
    for (const [name, text] of Object.entries(inputs)) {
      it(name, () => {
        expect(text.length).to.be.within(size - 100, size, 'under maxScanLength, so it is scanned');
        for (const input of [text, text.slice(0, 100_000)]) {
          const started = performance.now();
          expect(masker.maskText(input)).to.be.a('string');
          expect(performance.now() - started, `${input.length} characters`).to.be.below(boundMs);
        }
      });
    }
    it('a string over maxScanLength is replaced, not scanned', () => {
      const small = createMasker({ recognizers: ['email'], maxScanLength: 100 });
      expect(small.maskText('a'.repeat(101))).to.equal('[MASKED: too long to scan]');
      expect(small.maskText('me@example.org')).to.equal('XXXXXXXXXXXXXX');
    });
  });
});

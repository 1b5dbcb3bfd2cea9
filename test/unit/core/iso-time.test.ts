// isoString / dateToJson: the hand-made formatter gives exactly what the built-ins give.
import { expect } from 'chai';
import { dateToJson, isoString } from '../../../src/iso-time.js';

describe('core: ISO timestamps', () => {
  it('equals Date#toISOString across years, months, days and milliseconds', () => {
    const samples = [
      0,
      1,
      999,
      1_000,
      86_399_999,
      -1,
      -86_400_001,
      Date.UTC(1000, 0, 1),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    ];
    // Leap days and the days around them, in leap centuries (1600, 2000) and in years that are not (1900, 2100).
    for (const year of [1000, 1600, 1900, 1970, 1999, 2000, 2024, 2100, 2400, 9996])
      for (const [month, day] of [
        [1, 28],
        [1, 29],
        [2, 1],
        [11, 31],
        [0, 1],
      ] as const)
        samples.push(
          Date.UTC(year, month, day) - 1,
          Date.UTC(year, month, day),
          Date.UTC(year, month, day, 12, 34, 56, 789),
        );
    let seed = 7;
    for (let n = 0; n < 2000; n++) {
      seed = (seed * 48271) % 2147483647;
      samples.push(Math.floor((seed / 2147483647) * 8_000_000_000_000) - 1_000_000_000_000);
    }
    for (const ms of samples) {
      const date = new Date(ms);
      expect(isoString(date), String(ms)).to.equal(date.toISOString());
      expect(isoString(ms)).to.equal(date.toISOString());
    }
  });

  it('hands years outside 1000–9999 to the built-in, and maps invalid dates as JSON does', () => {
    for (const date of [new Date(Date.UTC(999, 0, 1)), new Date(Date.UTC(10_000, 0, 1)), new Date(-62198755200001)]) {
      expect(isoString(date)).to.equal(date.toISOString());
    }
    expect(isoString(Date.UTC(1000, 0, 1) - 1)).to.equal('0999-12-31T23:59:59.999Z');
    expect(isoString(1.5)).to.equal(
      new Date(1.5).toISOString(),
      'fractional milliseconds are truncated like the built-in',
    );
    expect(() => isoString(new Date(Number.NaN))).to.throw(RangeError);
    const invalid = new Date('not a date');
    expect(dateToJson(invalid)).to.equal(JSON.parse(JSON.stringify({ d: invalid })).d);
    const valid = new Date();
    expect(dateToJson(valid)).to.equal(JSON.parse(JSON.stringify({ d: valid })).d);
  });
});

// isoString / dateToJson: the hand-made formatter gives exactly what the built-ins give.
import { expect } from 'chai';
import { dateToJson, isoString } from '../../../src/iso-time.js';

describe('core: ISO timestamps', () => {
  it('equals Date#toISOString across years, months, days and milliseconds', () => {
    const samples = [0, 1, 999, 1_000, 86_399_999, Date.UTC(1000, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
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
    expect(() => isoString(new Date(Number.NaN))).to.throw(RangeError);
    const invalid = new Date('not a date');
    expect(dateToJson(invalid)).to.equal(JSON.parse(JSON.stringify({ d: invalid })).d);
    const valid = new Date();
    expect(dateToJson(valid)).to.equal(JSON.parse(JSON.stringify({ d: valid })).d);
  });
});

// The options pipeline: an object of known keys (did-you-mean), undefined as absent, integers in range.
import { expect } from 'chai';
import { ConfigError } from '../../../src/errors.js';
import { checkOptions, integerOption } from '../../../src/options.js';

describe('core: options pipeline', function () {
  it('returns the options without undefined values and takes absent options as {}', function () {
    expect(checkOptions('thing()', { a: 1, b: undefined }, ['a', 'b'])).to.deep.equal({ a: 1 });
    expect(checkOptions('thing()', { maxLimt: undefined }, ['maxLimit'])).to.deep.equal({});
    expect(checkOptions('thing()', undefined, ['a'])).to.deep.equal({});
  });

  it('names an unknown key, under its path, with the closest known one', function () {
    expect(() => checkOptions('authorize()', { gaurd: 1 }, ['guard', 'action'], { path: 'authorize' }))
      .to.throw(ConfigError, 'authorize.gaurd: is not an authorize() option (did you mean guard?)')
      .with.property('code', 'config.unknown');
    expect(() => checkOptions('quota()', { zzz: 1 }, ['limit']))
      .to.throw(ConfigError, /^zzz: is not a quota\(\) option$/)
      .with.property('option', 'zzz');
  });

  it('refuses options that are not an object', function () {
    for (const bad of [null, 'x', 3, [1]]) {
      expect(() => checkOptions('thing()', bad as never, [])).to.throw(ConfigError, /^options: must be an object/);
    }
  });

  it('reads an integer in range, its fallback when absent, and names the range otherwise', function () {
    expect(integerOption('n', undefined, { fallback: 7 })).to.equal(7);
    expect(integerOption('n', 0, { fallback: 7 })).to.equal(0);
    expect(integerOption('n', 5, { fallback: 7, min: 1, max: 5 })).to.equal(5);
    for (const bad of [6, 0, 1.5, '3', NaN, 2 ** 53]) {
      expect(() => integerOption('n', bad, { fallback: 7, min: 1, max: 5 }))
        .to.throw(ConfigError, 'n: must be an integer from 1 to 5')
        .with.property('option', 'n');
    }
    expect(() => integerOption('n', -1, { fallback: 7 })).to.throw(ConfigError, 'n: must be an integer ≥ 0');
  });
});

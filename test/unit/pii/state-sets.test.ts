// The masking walk's state sets: interned, memoized, and bounded however many distinct keys the data has.
import { expect } from 'chai';
import { insertPath, newNode, parsePath } from '../../../src/pii/paths.js';
import { StateSets } from '../../../src/pii/state-sets.js';
import { createMasker } from '../../../src/pii/engine.js';

describe('pii state sets', () => {
  const root = newNode();
  insertPath(root, parsePath('user.email', 'paths[0]'), 0, false);
  insertPath(root, parsePath('**.ssn', 'paths[1]'), 1, false);

  it('gives the same set for the same states, so transitions are computed once', () => {
    const sets = new StateSets();
    const start = sets.start(root);
    const viaUser = sets.afterKey(start, 'user');
    expect(sets.afterKey(start, 'user')).to.equal(viaUser);
    expect(sets.afterKey(viaUser, 'email').rule).to.equal(0);
    expect(sets.afterKey(sets.afterKey(start, 'other'), 'ssn').rule).to.equal(1);
    expect(sets.afterKey(start, 'a')).to.equal(sets.afterKey(start, 'b'), 'both reach only the ** loop');
  });

  it('memoizes at most 256 transitions per set under a flood of distinct keys', () => {
    const sets = new StateSets();
    const start = sets.start(root);
    for (let n = 0; n < 10_000; n++) sets.afterKey(start, `k${n}`);
    expect(start.byKey.size).to.equal(256);
    expect(sets.afterKey(start, 'k9999').rule).to.equal(undefined);
  });

  it('masks the same way whether transitions are memoized or not', () => {
    const masker = createMasker({ paths: ['user.email'], keys: ['ssn'] });
    const wide = Object.fromEntries(Array.from({ length: 600 }, (_, n) => [`f${n}`, { ssn: `s${n}` }]));
    const masked = masker.mask({ ...wide, user: { email: 'a@b.example', name: 'A' } });
    expect(Object.values(masked).filter((value) => (value as { ssn?: string }).ssn?.startsWith('s'))).to.deep.equal([]);
    expect((masked.user as { email: string; name: string }).name).to.equal('A');
    expect((masked.user as { email: string }).email).to.not.equal('a@b.example');
  });
});

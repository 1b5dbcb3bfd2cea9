// subjectOf: the ABAC subject built from a principal.
import { expect } from 'chai';
import { subjectOf } from '../../../middleware/authorize.js';
import type { Principal } from '../../../src/auth/principal.js';

describe('abac: subjectOf', () => {
  it('takes the free attributes, then the fields authentication vouches for, which attributes cannot override', () => {
    const principal: Principal = {
      id: 'ana',
      kind: 'user',
      name: 'Ana',
      groups: ['analysts'],
      scopes: ['read'],
      attributes: { role: 'analyst', id: 'forged', kind: 'admin' },
    };
    const subject = subjectOf(principal);
    expect(subject).to.deep.equal({
      role: 'analyst',
      id: 'ana',
      kind: 'user',
      groups: ['analysts'],
      name: 'Ana',
    });
    // Scopes only narrow the owner's rights (checked apart from the policies): no policy may widen them.
    expect(subject).to.not.have.property('scopes');
    (subject.groups as string[]).push('admins');
    expect(principal.groups).to.deep.equal(['analysts'], 'the principal is not shared');
  });

  it('keeps an attribute named __proto__ out of the subject and its prototype', () => {
    const attributes = JSON.parse('{"__proto__": {"admin": true}, "role": "x"}') as Record<string, unknown>;
    const subject = subjectOf({ id: 'u', kind: 'user', groups: [], attributes });
    expect(Object.getPrototypeOf(subject)).to.equal(Object.prototype);
    expect(subject.admin).to.equal(undefined);
    expect(subject.role).to.equal('x');
  });
});

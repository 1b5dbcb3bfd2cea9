// The escalation rule dimension by dimension: what a non-admin may grant, and what it names when it may not.
import { expect } from 'chai';
import type { Grants } from '../../../src/contracts/principals.js';
import {
  assertNoEscalation,
  exceeds,
  isSubset,
  mayGrant,
  mayIssueCredential,
  mayWritePolicies,
  mergePermissions,
  type Authority,
  type Holding,
} from '../../../src/auth/index.js';
import { ForbiddenError } from '../../../src/errors.js';

function authority(grants: Grants, extra: Partial<Authority> = {}): Authority {
  return { permissions: mergePermissions(grants), groups: [], attributes: {}, ...extra };
}

function holding(grants: Grants, extra: Partial<Holding> = {}): Holding {
  return { permissions: mergePermissions(grants), groups: [], attributes: {}, ...extra };
}

const fields = (problems: { field: string }[]) => problems.map((p) => p.field);

// Within the helpdesk below in every dimension but endpoints.
const NARROW: Grants = {
  filterFields: [{ field: 'country', value: 'DE' }],
  excludeFields: ['ssn'],
  updateFieldsPermitted: ['status'],
  updateFieldsRestricted: ['owner'],
};
const narrowHolding = (grants: Grants) => holding({ ...NARROW, ...grants });

describe('escalation rule', function () {
  const helpdesk = authority(
    {
      permittedEndpoints: [
        { method: 'GET|PUT', path: '/admin/principals/[^/]+' },
        { method: 'GET', path: '/records(/.*)?' },
      ],
      filterFields: [{ field: 'country', value: ['DE', 'FR'] }],
      excludeFields: ['ssn'],
      updateFieldsPermitted: ['status', 'phone'],
      updateFieldsRestricted: ['owner'],
    },
    { groups: ['support'], attributes: { role: 'helpdesk' } },
  );

  it('a full admin may grant anything', function () {
    const admin = authority({ admin: true });
    expect(exceeds(admin, holding({ admin: true, permittedEndpoints: [{ method: '*', path: '.*' }] }))).to.deep.equal(
      [],
    );
    expect(mayWritePolicies(admin)).to.deep.equal([]);
  });

  it('endpoints: string-equal patterns with fewer methods, or literal paths a held pattern matches', function () {
    const holding = (grants: Grants) => narrowHolding(grants);
    expect(isSubset(helpdesk, holding({ permittedEndpoints: [{ method: 'get', path: '/admin/principals/[^/]+' }] }))).to
      .be.true;
    expect(isSubset(helpdesk, holding({ permittedEndpoints: [{ method: 'GET', path: '/admin/principals/bob' }] }))).to
      .be.true;
    expect(isSubset(helpdesk, holding({ permittedEndpoints: [{ method: 'GET', path: '/records/42' }] }))).to.be.true;
    // Equivalent-looking patterns are refused: regex inclusion is not decided, only string equality.
    expect(
      fields(exceeds(helpdesk, holding({ permittedEndpoints: [{ method: 'GET', path: '/admin/principals/[^/]*' }] }))),
    ).to.deep.equal(['permittedEndpoints']);
    expect(isSubset(helpdesk, holding({ permittedEndpoints: [{ method: 'DELETE', path: '/admin/principals/bob' }] })))
      .to.be.false;
    expect(isSubset(helpdesk, holding({ permittedEndpoints: [{ method: '*', path: '/admin/principals/[^/]+' }] }))).to
      .be.false;
    // A dot is regex syntax: `/records/4.` is not a literal path.
    expect(isSubset(helpdesk, holding({ permittedEndpoints: [{ method: 'GET', path: '/records/4.' }] }))).to.be.false;
    expect(
      isSubset(
        authority({ permittedEndpoints: [{ method: '*', path: '/x' }] }),
        holding({ permittedEndpoints: [{ method: 'GET|POST', path: '/x' }] }),
      ),
    ).to.be.true;
  });

  it('filters: narrower filters only; no filter at all sees every record', function () {
    const base = { excludeFields: ['ssn'], updateFieldsPermitted: ['status'], updateFieldsRestricted: ['owner'] };
    expect(isSubset(helpdesk, holding({ ...base, filterFields: [{ field: 'country', value: 'DE' }] }))).to.be.true;
    expect(
      isSubset(
        helpdesk,
        holding({
          ...base,
          filterFields: [
            { field: 'country', value: 'FR' },
            { field: 'team', value: 'red' },
          ],
        }),
      ),
    ).to.be.true;
    expect(
      fields(exceeds(helpdesk, holding({ ...base, filterFields: [{ field: 'country', value: ['DE', 'US'] }] }))),
    ).to.deep.equal(['filterFields']);
    expect(fields(exceeds(helpdesk, holding(base)))).to.deep.equal(['filterFields']);
    expect(isSubset(helpdesk, holding({ ...base, filterFields: [{ field: 'team', value: 'red' }] }))).to.be.false;
  });

  it('exclusions and update rights: at least as excluded and restricted as the actor', function () {
    const filter = { filterFields: [{ field: 'country', value: 'DE' }] };
    expect(
      fields(
        exceeds(
          helpdesk,
          holding({ ...filter, updateFieldsPermitted: ['status', 'notes'], updateFieldsRestricted: ['owner'] }),
        ),
      ),
    ).to.deep.equal(['excludeFields', 'updateFieldsPermitted']);
    expect(fields(exceeds(helpdesk, holding({ ...filter, excludeFields: ['ssn'] })))).to.deep.equal([
      'updateFieldsRestricted',
      'updateFieldsPermitted',
    ]);
    // A listed field that is also restricted grants nothing; an excluded field counts as restricted.
    expect(
      isSubset(
        helpdesk,
        holding({
          ...filter,
          excludeFields: ['ssn', 'owner'],
          updateFieldsPermitted: ['status', 'notes'],
          updateFieldsRestricted: ['notes'],
        }),
      ),
    ).to.be.true;
  });

  it('groups, attributes and quotas: only what the actor holds, with the same values', function () {
    const narrow = {
      filterFields: [{ field: 'country', value: 'DE' }],
      excludeFields: ['ssn'],
      updateFieldsPermitted: ['status'],
      updateFieldsRestricted: ['owner'],
    };
    expect(isSubset(helpdesk, holding(narrow, { groups: ['support'], attributes: { role: 'helpdesk' } }))).to.be.true;
    expect(
      fields(exceeds(helpdesk, holding(narrow, { groups: ['admins'], attributes: { role: 'admin' } }))),
    ).to.deep.equal(['groups', 'attributes.role']);
    expect(fields(exceeds(helpdesk, holding(narrow, { quotas: { upload: 1 } })))).to.deep.equal(['quotas.upload']);
    const limited = { ...helpdesk, quotas: { upload: 10 } };
    expect(fields(exceeds(limited, holding(narrow)))).to.deep.equal(['quotas.upload']);
    expect(isSubset(limited, holding(narrow, { quotas: { upload: 10 } }))).to.be.true;
    expect(isSubset(limited, holding(narrow, { quotas: { upload: 11 } }))).to.be.false;
  });

  it('mayGrant: someone the actor does not cover cannot be touched, whatever the new state', function () {
    const adminBefore = holding({ admin: true });
    expect(fields(mayGrant(helpdesk, adminBefore, holding({})))).to.deep.equal(['current.admin']);
    expect(fields(mayGrant(helpdesk, adminBefore, undefined))).to.deep.equal(['current.admin']);
    expect(fields(mayGrant(helpdesk, undefined, holding({ admin: true })))).to.include('admin');
  });

  it('credentials: a scoped caller issues only narrower keys and no password', function () {
    const scoped = { ...helpdesk, scopes: ['accounts:read', 'accounts:update'] };
    expect(mayIssueCredential(scoped, ['accounts:read'])).to.deep.equal([]);
    expect(fields(mayIssueCredential(scoped, ['accounts:delete']))).to.deep.equal(['scopes']);
    expect(fields(mayIssueCredential(scoped, []))).to.deep.equal(['scopes']);
    expect(fields(mayIssueCredential(scoped, 'all'))).to.deep.equal(['password']);
    expect(mayIssueCredential(helpdesk, [])).to.deep.equal([]);
    expect(mayIssueCredential({ ...helpdesk, scopes: ['*'] }, 'all')).to.deep.equal([]);
    const wildcard = { ...helpdesk, scopes: ['accounts:*'] };
    expect(mayIssueCredential(wildcard, ['accounts:read', 'accounts:*'])).to.deep.equal([]);
    expect(fields(mayIssueCredential(wildcard, ['audit:read', '*']))).to.deep.equal(['scopes', 'scopes']);
    expect(fields(mayIssueCredential(scoped, ['accounts:*']))).to.deep.equal(['scopes']);
  });

  it('policies need a full admin; the error is 403 forbidden.escalation naming each excess', function () {
    const problems = mayWritePolicies(helpdesk);
    expect(() => assertNoEscalation(problems))
      .to.throw(ForbiddenError)
      .that.satisfies((error: ForbiddenError) => {
        expect(error).to.include({ status: 403, code: 'forbidden.escalation' });
        expect(error.errors).to.deep.equal(problems);
        return true;
      });
    expect(() => assertNoEscalation([])).to.not.throw();
  });
});

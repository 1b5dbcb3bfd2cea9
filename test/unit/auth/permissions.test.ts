// Permission merging and endpoint checks, one test per example of scoutr's access-control documentation.
import { expect } from 'chai';
import type { Grants, GroupRecord } from '../../../src/contracts/principals.js';
import {
  combineAlternatives,
  forbiddenUpdateFields,
  isEndpointPermitted,
  mergePermissions,
  validateEndpoint,
} from '../../../src/auth/index.js';

// scoutr's "read-only" group example, in Portcullis's field names.
const readOnly: GroupRecord = {
  id: 'read-only',
  permittedEndpoints: [
    { path: '^/account/.+$', method: 'GET' },
    { path: '^/accounts.*$', method: 'GET' },
    { path: '^/search/.+$', method: 'POST' },
  ],
  excludeFields: ['field1'],
  updateFieldsPermitted: ['field4'],
  updateFieldsRestricted: ['field5'],
  filterFields: [
    { field: 'field2', value: 'value1' },
    { field: 'field3', value: ['value2', 'value3'] },
  ],
};

const viewAuditLogs: GroupRecord = {
  id: 'view-audit-logs',
  permittedEndpoints: [
    { path: '^/audit/.*$', method: 'GET' },
    { path: '^/history/.+$', method: 'GET' },
  ],
};

describe('auth: mergePermissions (scoutr examples)', function () {
  it('field filter syntax: a string is equality, a list is IN, several filters are ANDed', function () {
    const permissions = mergePermissions({
      filterFields: [
        { field: 'field1', value: 'filter_value' },
        { field: 'field2', value: ['value1', 'value2'] },
      ],
    });
    // One filter object: its fields are ANDed, a list on one field is an IN.
    expect(permissions.filters).to.have.length(1);
    expect({ ...permissions.filters[0] }).to.deep.equal({ field1: 'filter_value', field2: ['value1', 'value2'] });
  });

  it('the read-only group example gives its endpoints, exclusions, update lists and filters', function () {
    const permissions = mergePermissions({}, [readOnly]);
    expect(permissions.allEndpoints).to.equal(false);
    expect(permissions.endpoints).to.deep.equal(readOnly.permittedEndpoints);
    expect(permissions.excludeFields).to.deep.equal(['field1']);
    expect(permissions.updateFieldsPermitted).to.deep.equal(['field4']);
    expect(permissions.updateFieldsRestricted).to.deep.equal(['field5']);
    expect({ ...permissions.filters[0] }).to.deep.equal({ field2: 'value1', field3: ['value2', 'value3'] });
    expect(isEndpointPermitted(permissions, 'GET', '/account/123')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'GET', '/accounts')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'POST', '/search/status')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'DELETE', '/account/123')).to.equal(false);
    expect(isEndpointPermitted(permissions, 'GET', '/account/')).to.equal(false);
    // HEAD is GET without the body: a GET grant covers it, as Express answers HEAD with the GET route.
    expect(isEndpointPermitted(permissions, 'HEAD', '/account/123')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'head', '/accounts')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'HEAD', '/search/status')).to.equal(false);
  });

  it('a user in "read-only" and "view-audit-logs" gets the permissions of both groups', function () {
    const permissions = mergePermissions({ groups: ['read-only', 'view-audit-logs'] } as Grants, [
      readOnly,
      viewAuditLogs,
    ]);
    expect(isEndpointPermitted(permissions, 'GET', '/account/1')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'GET', '/audit/')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'GET', '/history/1')).to.equal(true);
    expect(permissions.endpoints).to.have.length(5);
  });

  it('user-level grants are combined with the groups, never overriding them', function () {
    const user: Grants = {
      permittedEndpoints: [{ method: 'PUT', path: '^/account/.+$' }],
      excludeFields: ['field9'],
      updateFieldsRestricted: ['field6'],
      filterFields: [{ field: 'field7', value: 'x' }],
    };
    const permissions = mergePermissions(user, [readOnly]);
    expect(isEndpointPermitted(permissions, 'PUT', '/account/1')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'GET', '/account/1')).to.equal(true);
    expect(permissions.excludeFields).to.deep.equal(['field9', 'field1']);
    expect(permissions.updateFieldsRestricted).to.deep.equal(['field6', 'field5']);
    // The group's filters still apply: the user's own filter adds a condition (AND) on another field.
    expect({ ...permissions.filters[0] }).to.deep.equal({
      field7: 'x',
      field2: 'value1',
      field3: ['value2', 'value3'],
    });
  });

  it('filters on the same field from several grants are ORed into one IN list', function () {
    const permissions = mergePermissions({ filterFields: [{ field: 'status', value: 'open' }] }, [
      { filterFields: [{ field: 'status', value: ['closed', 'open'] }] },
      { filterFields: [{ field: 'region', value: 'eu' }] },
    ]);
    expect({ ...permissions.filters[0] }).to.deep.equal({ status: ['open', 'closed'], region: 'eu' });
  });

  it('several OIDC groups are ORed: a record visible through any group is visible', function () {
    const first = mergePermissions({ filterFields: [{ field: 'team', value: 'a' }] }, [readOnly]);
    const second = mergePermissions({ filterFields: [{ field: 'team', value: 'b' }] }, [viewAuditLogs]);
    const permissions = combineAlternatives([first, second]);
    expect(permissions.filters.map((filter) => ({ ...filter }))).to.deep.equal([
      { team: 'a', field2: 'value1', field3: ['value2', 'value3'] },
      { team: 'b' },
    ]);
    expect(isEndpointPermitted(permissions, 'GET', '/audit/x')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'GET', '/account/x')).to.equal(true);
    // Exclusions cannot be tied to one filter, so they stay on (the safe side).
    expect(permissions.excludeFields).to.deep.equal(['field1']);
  });

  it('an OIDC group without filters makes every record visible', function () {
    const filtered = mergePermissions({ filterFields: [{ field: 'team', value: 'a' }] });
    const unfiltered = mergePermissions({ permittedEndpoints: [{ method: 'GET', path: '/x' }] });
    expect(combineAlternatives([filtered, unfiltered]).filters).to.deep.equal([]);
  });

  it('no grants: no endpoint, and admin gives every endpoint', function () {
    expect(isEndpointPermitted(mergePermissions({}), 'GET', '/')).to.equal(false);
    expect(isEndpointPermitted(combineAlternatives([]), 'GET', '/')).to.equal(false);
    expect(isEndpointPermitted(mergePermissions({}, [{ admin: true }]), 'DELETE', '/anything')).to.equal(true);
    expect(isEndpointPermitted(undefined, 'GET', '/')).to.equal(false);
  });
});

describe('auth: permitted endpoints', function () {
  it('patterns are anchored at both ends, even without ^ and $ (scoutr "/endpoint")', function () {
    const permissions = mergePermissions({ permittedEndpoints: [{ method: 'GET', path: '/endpoint' }] });
    expect(isEndpointPermitted(permissions, 'GET', '/endpoint')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'GET', '/endpoint/x')).to.equal(false);
    expect(isEndpointPermitted(permissions, 'GET', '/x/endpoint')).to.equal(false);
  });

  it('a path with a dot segment names no endpoint a wildcard pattern could grant', function () {
    const permissions = mergePermissions({ permittedEndpoints: [{ method: 'GET', path: '/accounts.*' }] });
    expect(isEndpointPermitted(permissions, 'GET', '/accounts/acc_1')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'GET', '/accounts/a.b/..x')).to.equal(true); // dots inside a segment
    expect(isEndpointPermitted(permissions, 'GET', '/accounts/a%2Eb%2F..x')).to.equal(true);
    for (const path of [
      '/accounts/../admin/principals',
      '/accounts/%2e%2e/admin/principals',
      '/accounts/%2E./admin',
      '/accounts//../../admin',
      '/accounts/./x',
      '/accounts/..',
      // The separator percent-encoded too: one segment to the router, a dot segment once decoded.
      '/accounts/acc_0001%2F..%2F..%2Fadmin',
      '/accounts/acc_0001%2f%2e%2e%2fadmin',
      '/accounts/acc_0001%2F.',
      '/accounts/%252e%252e/admin',
      '/accounts/acc_0001%5C..%5Cadmin',
      '/accounts/acc_0001\\..\\admin',
      '/accounts/%zz/..', // not valid percent-encoding: the server answers 400, never a grant
    ]) {
      expect(isEndpointPermitted(permissions, 'GET', path), path).to.equal(false);
    }
  });

  it('an alternation cannot escape the anchors', function () {
    const permissions = mergePermissions({ permittedEndpoints: [{ method: 'GET', path: '/a|/b' }] });
    expect(isEndpointPermitted(permissions, 'GET', '/a')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'GET', '/b')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'GET', '/admin/a')).to.equal(false);
    expect(isEndpointPermitted(permissions, 'GET', '/bx')).to.equal(false);
  });

  it('methods: one, several separated by |, or *', function () {
    const permissions = mergePermissions({
      permittedEndpoints: [
        { method: 'GET|POST', path: '^/endpoint2/.+$' },
        { method: '*', path: '/any' },
      ],
    });
    expect(isEndpointPermitted(permissions, 'post', '/endpoint2/1')).to.equal(true);
    expect(isEndpointPermitted(permissions, 'PUT', '/endpoint2/1')).to.equal(false);
    expect(isEndpointPermitted(permissions, 'DELETE', '/any')).to.equal(true);
  });

  it('rejects what the linear-time engine cannot run, invalid and oversized patterns, naming the pattern', function () {
    expect(validateEndpoint({ method: 'GET', path: '^/(a)\\1$' })).to.match(/unsupported .*\(a\)\\1.*backreference/);
    expect(validateEndpoint({ method: 'GET', path: '^/x(?!y)' })).to.match(/lookahead/);
    expect(validateEndpoint({ method: 'GET', path: '^/([a-z]+/)?x$' })).to.equal(undefined);
    expect(validateEndpoint({ method: 'GET', path: '^/(unclosed$' })).to.match(/invalid regular expression/);
    expect(validateEndpoint({ method: 'GET', path: 'a)|(b' })).to.match(/invalid regular expression/);
    expect(validateEndpoint({ method: 'GET', path: 'x'.repeat(600) })).to.match(/1-512/);
    expect(validateEndpoint({ method: 'G E T', path: '/x' })).to.match(/method/);
    // A stored pattern that slipped through matches nothing instead of failing the request.
    const refused = mergePermissions({ permittedEndpoints: [{ method: 'GET', path: '^(a)\\1$' }] });
    expect(isEndpointPermitted(refused, 'GET', 'aa')).to.equal(false);
  });

  it('runs catastrophic endpoint patterns in linear time', function () {
    this.timeout(1000);
    for (const path of ['^/(a+)+$', '^/(\\w*\\d?)*x$', '/accounts/(\\w|\\d)+']) {
      expect(validateEndpoint({ method: 'GET', path }), path).to.equal(undefined);
      const permissions = mergePermissions({ permittedEndpoints: [{ method: 'GET', path }] });
      expect(isEndpointPermitted(permissions, 'GET', `/accounts/${'1'.repeat(1000)}!`), path).to.equal(false);
      expect(isEndpointPermitted(permissions, 'GET', `/${'a'.repeat(1000)}!`), path).to.equal(false);
    }
  });

  it('forbiddenUpdateFields applies the permitted, restricted and excluded lists', function () {
    const permissions = mergePermissions({}, [readOnly]);
    expect(forbiddenUpdateFields(permissions, ['field4'])).to.deep.equal([]);
    expect(forbiddenUpdateFields(permissions, ['field4', 'field5', 'field1', 'other'])).to.deep.equal([
      'field5',
      'field1',
      'other',
    ]);
  });
});

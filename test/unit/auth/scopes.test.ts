// Scope names and matching: the default mapping of actions and methods, and what a credential's scopes grant.
import { expect } from 'chai';
import { CRUD_SCOPE_LEVELS, defaultScope, methodLevel, scopeGrants, verbLevel } from '../../../src/auth/scopes.js';

describe('auth: scopes', function () {
  it('grants everything without scopes, and otherwise only the scope, * or <resource>:*', function () {
    expect(scopeGrants(undefined, 'accounts:write')).to.equal(true);
    expect(scopeGrants([], 'accounts:write')).to.equal(true);
    expect(scopeGrants(['accounts:write'], 'accounts:write')).to.equal(true);
    expect(scopeGrants(['*'], 'accounts:write')).to.equal(true);
    expect(scopeGrants(['accounts:*'], 'accounts:write')).to.equal(true);
    expect(scopeGrants(['accounts:read'], 'accounts:write')).to.equal(false);
    expect(scopeGrants(['accounts'], 'accounts:write')).to.equal(false);
    expect(scopeGrants(['account:*'], 'accounts:write')).to.equal(false);
    expect(scopeGrants(['accounts:*'], 'accounts:')).to.equal(false);
    expect(scopeGrants(['accounts:*'], 'accountsx:write')).to.equal(false);
    expect(scopeGrants(['accounts:write:*'], 'accounts:write')).to.equal(false);
    expect(scopeGrants(['Accounts:write'], 'accounts:write')).to.equal(false);
  });

  it('maps CRUD actions, verbs and HTTP methods to read, write or delete', function () {
    expect(CRUD_SCOPE_LEVELS).to.deep.equal({
      list: 'read',
      read: 'read',
      history: 'read',
      create: 'write',
      update: 'write',
      restore: 'write',
      delete: 'delete',
      purge: 'delete',
    });
    expect(['GET', 'HEAD', 'OPTIONS'].map(methodLevel)).to.deep.equal(['read', 'read', 'read']);
    expect(['POST', 'PUT', 'PATCH', 'PROPFIND'].map(methodLevel)).to.deep.equal(['write', 'write', 'write', 'write']);
    expect(methodLevel('DELETE')).to.equal('delete');
    expect(verbLevel('history')).to.equal('read');
    expect(verbLevel('export')).to.equal(undefined);
    expect(verbLevel('__proto__')).to.equal(undefined);
  });

  it('derives the default scope of authorize() from the action, else the resource and method', function () {
    expect(defaultScope('accounts:update', 'ignored', 'GET')).to.equal('accounts:write');
    expect(defaultScope('accounts:list', 'accounts', 'POST')).to.equal('accounts:read');
    expect(defaultScope('audit:read', 'audit', 'GET')).to.equal('audit:read');
    expect(defaultScope('a:b:purge', 'x', 'GET')).to.equal('a:b:delete');
    expect(defaultScope('read', 'reports', 'POST')).to.equal('reports:read');
    expect(defaultScope('admin', 'admin', 'PUT')).to.equal('admin:write');
    expect(defaultScope('accounts:export', 'accounts', 'GET')).to.equal('accounts:read');
    expect(defaultScope(undefined, 'reports', 'DELETE')).to.equal('reports:delete');
    expect(defaultScope({ name: 'x' }, 'reports', 'GET')).to.equal('reports:read');
    expect(defaultScope(':update', 'reports', 'GET')).to.equal('reports:write');
  });
});

// Many large linear-time patterns still add up: one decision spends at most REGEX_WORK_BUDGET of engine work.
import { expect } from 'chai';
import { Guard } from '../../../src/abac/guard.js';
import { policyFromJSON } from '../../../src/abac/policy-json.js';
import { isEndpointPermitted, mergePermissions } from '../../../src/auth/permissions.js';
import { RegexBudgetError, withinRegexBudget, compileRegex } from '../../../src/regex.js';

function randomAb(length: number, seed: number): string {
  let state = seed;
  let text = '';
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    text += state & 1 ? 'a' : 'b';
  }
  return text;
}

describe('regex work budget per decision', function () {
  it('a deny policy of 20 large patterns on a 1 000-character id is decided (denied) in bounded time', function () {
    const rules = Array.from({ length: 20 }, (_, i) => ({ type: 'RegexMatch', pattern: `^.*a.{${600 + i}}b$` }));
    const policy = policyFromJSON({
      uid: 'dos-or',
      effect: 'deny',
      subjects: [{ type: 'Any' }],
      actions: [{ type: 'Any' }],
      resources: [{ id: { type: 'Or', rules } }],
    });
    const allow = policyFromJSON({
      uid: 'all',
      effect: 'allow',
      subjects: [{ type: 'Any' }],
      actions: [{ type: 'Any' }],
      resources: [{ type: 'Any' }],
    });
    const guard = new Guard({ policies: [policy, allow] });
    const started = performance.now();
    const allowed = guard.isAllowed({ subject: 'ana', action: 'read', resource: { id: `${randomAb(1019, 7)}a` } });
    const took = performance.now() - started;
    expect(allowed, 'a decision that ran out of budget fails closed').to.equal(false);
    expect(took).to.be.below(600);
    // The same policy set still decides ordinary requests.
    expect(guard.isAllowed({ subject: 'ana', action: 'read', resource: { id: 'acc_0001' } })).to.equal(true);
  });

  it('ten large permitted endpoints on a 2 000-character path are refused in bounded time', function () {
    const permissions = mergePermissions({
      permittedEndpoints: Array.from({ length: 10 }, (_, i) => ({ method: 'GET', path: `/.*a.{${600 + i}}b` })),
    });
    const started = performance.now();
    expect(() => isEndpointPermitted(permissions, 'GET', `/${randomAb(2040, 11)}`)).to.throw(RegexBudgetError);
    expect(performance.now() - started).to.be.below(600);
    expect(isEndpointPermitted(permissions, 'GET', '/short')).to.equal(false);
  });

  it('counts only engine work inside a decision, and nested decisions share the outer budget', function () {
    const heavy = compileRegex('^.*a.{600}b$');
    const input = randomAb(1200, 3);
    expect(() => heavy.test(input)).to.not.throw(); // outside a decision: not counted
    expect(() =>
      withinRegexBudget(() => {
        for (let i = 0; i < 5; i++) withinRegexBudget(() => heavy.test(input));
      }),
    ).to.throw(RegexBudgetError);
  });
});

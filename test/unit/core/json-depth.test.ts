// Nesting bounds: the iterative measure, and every walker a deep value can reach from code (no HTTP).
import { expect } from 'chai';
import { fromVaktJson, parsePolicies, policy, policyFromJSON, PolicyValidationError } from '../../../src/abac/index.js';
import { RuleArgumentError } from '../../../src/abac/rules/index.js';
import { canonicalJson, NestingError } from '../../../src/audit/canonical.js';
import { createAuditPipeline } from '../../../src/audit/pipeline.js';
import { validatePrincipal } from '../../../src/auth/validate.js';
import { ConfigError, ValidationError } from '../../../src/errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, tooDeepError } from '../../../src/json-depth.js';
import { createMasker } from '../../../src/pii/index.js';
import { copyData } from '../../../stores/memory/copy.js';
import { MemoryAuditStore, MemoryPrincipalStore, MemoryRecordStore } from '../../../stores/memory/index.js';

/** `levels` nested containers: objects `{a: …}` (or arrays) around `leaf`. */
function nested(levels: number, leaf: unknown = 1, array = false): unknown {
  let value = leaf;
  for (let index = 0; index < levels; index++) value = array ? [value] : { a: value };
  return value;
}

/** The error `fn` throws (fails the test when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

function expectTooDeep(error: unknown, bound = MAX_JSON_DEPTH): void {
  expect(error).to.be.instanceOf(ValidationError);
  expect(error).to.not.be.instanceOf(RangeError);
  expect((error as ValidationError).status).to.equal(400);
  expect((error as ValidationError).code).to.equal('validation.too_deep');
  expect((error as Error).message).to.contain(`${bound} levels`);
}

describe('JSON nesting bounds', function () {
  describe('nestsDeeperThan', function () {
    it('counts containers as levels: exactly the bound passes, one more does not', function () {
      expect(nestsDeeperThan(1, 0)).to.equal(false);
      expect(nestsDeeperThan({}, 1)).to.equal(false);
      expect(nestsDeeperThan({}, 0)).to.equal(true);
      expect(nestsDeeperThan(nested(64), 64)).to.equal(false);
      expect(nestsDeeperThan(nested(65), 64)).to.equal(true);
      expect(nestsDeeperThan(nested(64, 'x', true), 64)).to.equal(false);
      expect(nestsDeeperThan(nested(65, 'x', true), 64)).to.equal(true);
      // The deepest branch counts, wherever it is.
      expect(nestsDeeperThan({ wide: [1, 2, 3], deep: [{ b: [nested(3)] }] }, 7)).to.equal(false);
      expect(nestsDeeperThan({ wide: [1, 2, 3], deep: [{ b: [nested(3)] }] }, 6)).to.equal(true);
    });

    it('treats dates and class instances as leaves, like JSON', function () {
      expect(nestsDeeperThan({ at: new Date(0) }, 1)).to.equal(false);
      expect(nestsDeeperThan({ bytes: new Uint8Array(4) }, 1)).to.equal(false);
      expect(nestsDeeperThan(Object.create(null) as object, 1)).to.equal(false);
    });

    it('measures a million levels without the stack, in well under a second', function () {
      const built = nested(1_000_000, 1, true);
      const parsed: unknown = JSON.parse(`${'['.repeat(500_000)}${']'.repeat(500_000)}`);
      const started = performance.now();
      expect(nestsDeeperThan(built, 64)).to.equal(true);
      expect(nestsDeeperThan(parsed, 64)).to.equal(true);
      expect(nestsDeeperThan(built, 2_000_000)).to.equal(false);
      expect(performance.now() - started).to.be.below(1000);
    });

    it('ends on a cycle (handed in by code) instead of looping', function () {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      expect(nestsDeeperThan(cycle, 64)).to.equal(true);
    });

    it('names the bound and the field in its error', function () {
      const error = tooDeepError(12, 'request body', 'attributes');
      expectTooDeep(error, 12);
      expect(error.message).to.equal('The request body nests deeper than 12 levels.');
      expect(error.errors).to.deep.equal([
        { field: 'attributes', message: 'nests deeper than 12 levels', code: 'validation.too_deep' },
      ]);
    });
  });

  describe('stores', function () {
    it('copyData refuses 8 000 levels with a 400 error, not a RangeError', function () {
      expectTooDeep(thrown(() => copyData(nested(8000))));
      expectTooDeep(thrown(() => copyData(nested(8000, 1, true))));
    });

    it('copyData copies exactly MAX_JSON_DEPTH levels and refuses one more', function () {
      const deepest = nested(MAX_JSON_DEPTH - 1, { at: new Date(0) }) as Record<string, unknown>;
      expect(nestsDeeperThan(deepest, MAX_JSON_DEPTH)).to.equal(false);
      expect(copyData(deepest)).to.deep.equal(deepest);
      expectTooDeep(thrown(() => copyData(nested(MAX_JSON_DEPTH + 1))));
    });

    it('a memory principal store refuses deep attributes, naming the field and the bound', async function () {
      const store = new MemoryPrincipalStore();
      const record = { id: 'deep', type: 'user' as const, groups: [], attributes: { a: nested(8000) } };
      const error = await store.savePrincipal(record).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expectTooDeep(error);
      expect((error as ValidationError).errors?.[0]?.field).to.equal('attributes');
      expect(await store.getPrincipal('deep')).to.equal(undefined);
    });

    it('validatePrincipal accepts a principal of exactly MAX_JSON_DEPTH levels and refuses one more', function () {
      // The record is level 1 and `attributes` level 2: its value may nest MAX_JSON_DEPTH - 2 more levels.
      const principal = (levels: number) => ({
        id: 'edge',
        type: 'user' as const,
        groups: [],
        attributes: { a: nested(levels) as Record<string, unknown> },
      });
      expect(() => validatePrincipal(principal(MAX_JSON_DEPTH - 2))).to.not.throw();
      expectTooDeep(thrown(() => validatePrincipal(principal(MAX_JSON_DEPTH - 1))));
    });

    it('a memory record store refuses a deep record handed in by code', async function () {
      const store = new MemoryRecordStore({ schema: { name: 'string' } });
      const error = await store.insert('r1', { name: 'x', extra: nested(8000) }).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expectTooDeep(error);
    });
  });

  describe('audit canonical form', function () {
    it('refuses 8 000 levels with its TypeError, not a RangeError', function () {
      const error = thrown(() => canonicalJson(nested(8000)));
      expect(error).to.be.instanceOf(NestingError).and.instanceOf(TypeError);
      expect((error as Error).message).to.match(/nests too deeply/);
    });

    it('an audit pipeline keeps the event of a too-deep payload, without the payload', async function () {
      const store = new MemoryAuditStore();
      const pipeline = await createAuditPipeline({ store, flushInterval: 0 });
      try {
        const kept = await pipeline.publish({ action: 'deep', resource: 'things', body: nested(8000) as object });
        expect(kept).to.not.equal(undefined);
        await pipeline.flush();
        const [event] = (await store.list({ limit: 10, order: 'asc' })).events;
        expect(event).to.include({ action: 'deep', resource: 'things' });
        expect(event!.body).to.equal(undefined);
        expect(event!.data).to.deep.equal({ truncated: true, tooDeep: true });
        const edge = await pipeline.publish({ action: 'edge', body: nested(MAX_JSON_DEPTH) as object });
        expect(JSON.stringify(edge!.body)).to.equal(JSON.stringify(nested(MAX_JSON_DEPTH)));
      } finally {
        await pipeline.close();
      }
    });

    it('keeps a body of MAX_JSON_DEPTH levels one level down in an event', function () {
      const event = { id: 'e', body: nested(MAX_JSON_DEPTH) };
      expect(canonicalJson(JSON.parse(canonicalJson(event)))).to.equal(canonicalJson(event));
    });
  });

  describe('PII masker', function () {
    it('masks 8 000 levels without a RangeError, failing closed below maxDepth', function () {
      for (const options of [{ keys: ['ssn'] }, { recognizers: ['email' as const] }, { paths: ['a.a'] }]) {
        const out = createMasker(options).mask(nested(8000, { ssn: '123-45-6789', email: 'a@b.example' }));
        expect(out).to.be.an('object');
      }
      const annotations = createMasker({ keys: ['ssn'] }).annotate(nested(8000, { ssn: '1' }));
      expect(Object.values(annotations).flat()[0]?.label).to.equal('too-deep');
    });

    it('refuses a maxDepth the stack could not hold, at creation', function () {
      expect(() => createMasker({ keys: ['ssn'], maxDepth: 5000 }))
        .to.throw(ConfigError, /maxDepth/)
        .with.property('option', 'maxDepth');
      expect(() => createMasker({ keys: ['ssn'], maxDepth: 1000 }).mask(nested(8000))).to.not.throw();
    });
  });

  describe('policies', function () {
    const notChain = (levels: number): unknown => {
      let rule: unknown = { type: 'Eq', value: 1 };
      for (let index = 0; index < levels; index++) rule = { type: 'Not', rule };
      return rule;
    };
    const document = (levels: number) => ({
      uid: 'deep',
      effect: 'allow',
      subjects: [notChain(levels)],
      actions: [{ type: 'Eq', value: 'read' }],
      resources: [{ type: 'Any' }],
    });

    it('refuses a 4 400-deep Not chain in milliseconds, naming the bound', function () {
      for (const read of [() => policyFromJSON(document(4400)), () => policy(document(4400) as never)]) {
        const started = performance.now();
        const error = thrown(read);
        expect(performance.now() - started).to.be.below(100);
        expect(error).to.be.instanceOf(PolicyValidationError);
        expect((error as Error).message).to.contain(`deeper than ${MAX_JSON_DEPTH} levels`);
      }
      const text = `[{"uid":"deep","effect":"allow","subjects":[${'{"type":"Not","rule":'.repeat(4400)}{"type":"Any"}${'}'.repeat(4400)}],"actions":[{"type":"Any"}],"resources":[{"type":"Any"}]}]`;
      const started = performance.now();
      expect(() => parsePolicies(text, { source: 'deep.json' })).to.throw(/deeper than 64 levels/);
      expect(performance.now() - started).to.be.below(100);
    });

    it('accepts a policy document of exactly MAX_JSON_DEPTH levels and refuses one more', function () {
      // document 1, subjects 2, then the Not chain, then Eq: levels - 1 + 2 Nots fill the bound.
      expect(policyFromJSON(document(MAX_JSON_DEPTH - 3)).uid).to.equal('deep');
      expect(() => policyFromJSON(document(MAX_JSON_DEPTH - 2))).to.throw(PolicyValidationError, /64 levels/);
    });

    it('refuses deep vakt JSON before converting it', function () {
      const error = thrown(() => fromVaktJson(nested(8000, { 'py/object': 'vakt.rules.Any' })));
      expect(error).to.be.instanceOf(RuleArgumentError);
      expect((error as Error).message).to.contain('64 levels');
    });
  });
});

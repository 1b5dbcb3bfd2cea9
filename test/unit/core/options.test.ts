// The options pipeline: an object of known keys (did-you-mean), undefined as absent, integers in range.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { ConfigError } from '../../../src/errors.js';
import { checkOptions, integerOption, numberOption } from '../../../src/options.js';
import { DecisionCache } from '../../../src/abac/decision-cache.js';
import { createAuditPipeline } from '../../../src/audit/pipeline.js';
import { createJwtVerifier } from '../../../src/auth/jwt.js';
import { createMasker } from '../../../src/pii/engine.js';
import { createFieldEncryption } from '../../../src/pii/field-encryption.js';
import { migrateKeys } from '../../../src/pii/key-rotation.js';
import { gracefulShutdown } from '../../../middleware/shutdown.js';
import { EncryptedMemoryCollection } from '../../../stores/memory/encrypted-collection.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';
import { MemoryPrincipalStore } from '../../../stores/memory/principals.js';
import { RedisPrincipalCache } from '../../../stores/redis/principal-cache.js';
import { sharedRedis } from '../../support/connections.js';

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

// Every factory reads its numbers through integerOption / numberOption: a bad value is a ConfigError naming
// the option and its range, at creation (some used to throw RangeError / TypeError, accept fractions or skip
// the check).
describe('core: numeric options of the factories', function () {
  const secret = randomBytes(32).toString('base64');
  const refuses = (create: () => unknown, message: string | RegExp, code = 'config.invalid') => {
    let caught: unknown;
    try {
      create();
    } catch (error) {
      caught = error;
    }
    expect(caught, String(message)).to.be.instanceOf(ConfigError);
    if (typeof message === 'string') expect((caught as ConfigError).message).to.equal(message);
    else expect((caught as ConfigError).message).to.match(message);
    expect((caught as ConfigError).code).to.equal(code);
  };
  const refusesAsync = async (create: () => Promise<unknown>, message: string) => {
    const caught = await create().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(caught).to.be.instanceOf(ConfigError);
    expect((caught as ConfigError).message).to.equal(message);
  };

  it('reads a finite number with numberOption, and refuses an absent required option naming it', function () {
    expect(numberOption('s', 0.5, { fallback: 5, max: 600 })).to.equal(0.5);
    expect(() => numberOption('s', Infinity, { fallback: 5, max: 600 })).to.throw(
      ConfigError,
      's: must be a number from 0 to 600',
    );
    expect(() => integerOption('n', undefined, { min: 1 }))
      .to.throw(ConfigError, 'n: is required: an integer ≥ 1')
      .with.property('code', 'config.missing');
  });

  it('gracefulShutdown: timeoutMs and closeReserveMs', function () {
    const server = createServer();
    const close = async () => undefined;
    refuses(() => gracefulShutdown(server, { timeoutMs: 1.5, close }), 'timeoutMs: must be an integer ≥ 1');
    refuses(
      () => gracefulShutdown(server, { close } as never),
      'timeoutMs: is required: an integer ≥ 1',
      'config.missing',
    );
    refuses(
      () => gracefulShutdown(server, { timeoutMs: 100, closeReserveMs: 100, close }),
      'closeReserveMs: must be an integer from 0 to 99',
    );
  });

  it('migrateKeys: batchSize, limit and unknown options', async function () {
    const encryption = createFieldEncryption({ keys: `1:${secret}`, blindIndexKey: randomBytes(32), fields: ['ssn'] });
    const source = new EncryptedMemoryCollection({ encryption }).rotationSource();
    await refusesAsync(
      () => migrateKeys(source, encryption, { batchSize: 0 }),
      'batchSize: must be an integer from 1 to 10000',
    );
    await refusesAsync(() => migrateKeys(source, encryption, { limit: 2.5 }), 'limit: must be an integer ≥ 1');
    await refusesAsync(
      () => migrateKeys(source, encryption, { batchsize: 5 } as never),
      'batchsize: is not a migrateKeys() option (did you mean batchSize?)',
    );
  });

  it('masking strategies: keepLast and length, with the strategy code', function () {
    refuses(
      () => createMasker({ paths: [{ path: 'card', strategy: { kind: 'partial', keepLast: 65 } }] }),
      /keepLast: must be an integer from 0 to 64$/,
      'pii.invalid_strategy',
    );
    refuses(
      () =>
        createMasker({
          pseudonymKey: randomBytes(32),
          paths: [{ path: 'email', strategy: { kind: 'pseudonym', length: 7 } }],
        }),
      /length: must be an integer from 8 to 43$/,
      'pii.invalid_strategy',
    );
  });

  it('createJwtVerifier: clockToleranceSec', function () {
    refuses(
      () => createJwtVerifier({ algorithms: ['HS256'], secret, clockToleranceSec: 601 }),
      'clockToleranceSec: must be a number from 0 to 600',
    );
  });

  it('DecisionCache: maxSize and maxKeyLength', function () {
    refuses(() => new DecisionCache({ maxSize: 0 }), 'maxSize: must be an integer ≥ 1');
    refuses(() => new DecisionCache({ maxKeyLength: -1 }), 'maxKeyLength: must be an integer ≥ 1');
  });

  it('RedisPrincipalCache: ttlMs', async function () {
    const client = await sharedRedis();
    refuses(
      () => new RedisPrincipalCache({ store: new MemoryPrincipalStore(), client, ttlMs: 0.5 }),
      'ttlMs: must be an integer ≥ 1',
    );
  });

  it('createAuditPipeline: counts and durations are whole', async function () {
    for (const [option, value, message] of [
      ['writeConcurrency', 1.5, 'writeConcurrency: must be an integer ≥ 1'],
      ['flushInterval', -1, 'flushInterval: must be an integer ≥ 0'],
      ['maxEventBytes', 100, 'maxEventBytes: must be an integer ≥ 1024'],
    ] as const) {
      await refusesAsync(() => createAuditPipeline({ store: new MemoryAuditStore(), [option]: value }), message);
    }
  });
});

// The public surface: every entry point's export names (changed only on purpose), each root name documented,
// and which packages importing each entry loads (the root and the memory stores load no database driver).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  exports: Record<string, string | { import: string }>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

/** Each `exports` entry's source file: `./dist/x/y.js` is `x/y.ts`. */
function sourceOf(specifier: string): string {
  const target = manifest.exports[specifier];
  if (!target || typeof target === 'string') throw new Error(`no import target for ${specifier}`);
  return `${root}${target.import.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')}`;
}

// A change here is a change of the public API: document it (README "Entry points", docs/).
const surface: Record<string, string[]> = {
  '.': [
    'ApiKeyHasher',
    'AuthenticationError',
    'ConfigError',
    'ConfigErrors',
    'ConflictError',
    'DecisionCache',
    'DecryptionError',
    'EncryptedAttachmentStore',
    'EncryptedRecordStore',
    'FileReliabilityQueue',
    'ForbiddenError',
    'Guard',
    'NotFoundError',
    'PRIVACY_LEVELS',
    'PayloadTooLargeError',
    'PolicyFileError',
    'PolicyMirror',
    'PolicySet',
    'PolicyValidationError',
    'PortcullisError',
    'PreconditionFailedError',
    'RateLimitedError',
    'ResidentRecordStore',
    'RuleArgumentError',
    'StoreUnavailableError',
    'UnfitValueError',
    'UnsupportedMediaTypeError',
    'ValidationError',
    'addressKey',
    'apiKeyStrategy',
    'auditAs',
    'auditContext',
    'auditPipelineFromConfig',
    'auditRouter',
    'auditTrail',
    'authRouter',
    'authenticate',
    'authorize',
    'bootstrapAdmin',
    'clientAddress',
    'clientKey',
    'combineAlternatives',
    'compileListQuery',
    'contextOf',
    'createAuditPipeline',
    'createAuth',
    'createFieldEncryption',
    'createHistory',
    'createJwtSigner',
    'createJwtVerifier',
    'createKeyRing',
    'createLogger',
    'createMasker',
    'createMetrics',
    'createPortcullis',
    'createProxyTrust',
    'createQueryCompiler',
    'createRuleRegistry',
    'createTotp',
    'crudRouter',
    'defaultEnricher',
    'defineRule',
    'describeConfig',
    'describeGuard',
    'describeRouter',
    'errorHandler',
    'failureLimit',
    'fieldEncryptionFromConfig',
    'filterQuery',
    'generateApiKey',
    'gracefulShutdown',
    'handleClientErrors',
    'healthHandler',
    'impliedRoles',
    'isEndpointPermitted',
    'jsonBody',
    'jwtStrategy',
    'loadConfig',
    'maskResponse',
    'maskerFromConfig',
    'maskingLogger',
    'mergePermissions',
    'migrateKeys',
    'migrateSecondFactorKeys',
    'notFoundHandler',
    'openApiDocument',
    'openApiRoute',
    'parseKeyRing',
    'parsePinFile',
    'parsePolicies',
    'parseTrustProxy',
    'pinoMaskingOptions',
    'policy',
    'policyAdminRouter',
    'policyFromJSON',
    'policyToJSON',
    'principalAdminRouter',
    'privacyRoles',
    'proxyStrategy',
    'quota',
    'rateLimit',
    'requestContext',
    'requirePermittedEndpoint',
    'requireScope',
    'rules',
    'scryptHash',
    'securityHeaders',
    'stringifyPolicies',
    'subjectOf',
    'toMongoFilter',
    'toPredicate',
    'unmaskGroupsGrant',
    'verifyEvents',
    'version',
  ],
  './stores': ['createStores'],
  './memory': [
    'EncryptedMemoryCollection',
    'MemoryAttachmentStore',
    'MemoryAuditStore',
    'MemoryPolicyStore',
    'MemoryPrincipalStore',
    'MemoryQuotaStore',
    'MemoryRateLimitStore',
    'MemoryRecordStore',
    'MemoryReliabilityQueue',
    'MemorySessionStore',
  ],
  './mongodb': [
    'MigrationLog',
    'MongoAttachmentStore',
    'MongoAuditStore',
    'MongoPolicyStore',
    'MongoPrincipalStore',
    'MongoRecordStore',
    'MongoSessionStore',
    'connectMongo',
    'decryptionErrorsOf',
    'decryptionProblems',
    'fieldEncryption',
    'fieldsOfModel',
    'idTypeOfModel',
    'isDuplicateKey',
    'isMongoUnavailable',
    'mongoCall',
    'mongoHealth',
    'mongoRotationSource',
    'mongooseSchemaFor',
    'splitDecrypted',
  ],
  './redis': [
    'RedisAuditStore',
    'RedisPolicyStore',
    'RedisPrincipalCache',
    'RedisQuotaStore',
    'RedisRateLimitStore',
    'RedisReliabilityQueue',
    'RedisSessionStore',
    'connectRedis',
    'connectRedisCluster',
    'isCluster',
    'isRedisUnavailable',
    'redisCall',
    'redisHealth',
  ],
  './cli': ['UsageError', 'commands', 'defaultIO', 'runCli'],
};

const drivers = ['mongoose', 'mongodb', 'ioredis'];

/** The packages of `forbidden` that `loaded` holds. */
function among(loaded: string[], forbidden: string[]): string[] {
  return forbidden.filter((name) => loaded.includes(name));
}

/** Imports `source` (after `then`, a statement run with the module as `m`) in a fresh process: the packages loaded. */
async function packagesLoadedBy(source: string, then = ''): Promise<string[]> {
  const script = `const m = await import(${JSON.stringify(source)}); ${then}`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--import', `${root}test/support/loaded-packages.ts`, '--input-type=module', '-e', script],
    { cwd: root },
  );
  const line = stdout.split('\n').find((text) => text.startsWith('LOADED '));
  if (!line) throw new Error(`no LOADED line in: ${stdout}`);
  return JSON.parse(line.slice('LOADED '.length)) as string[];
}

describe('entry points', function () {
  this.timeout(60_000);

  it('export exactly the names of the public surface, and package.json exports exactly these entries', async function () {
    expect(Object.keys(manifest.exports).filter((key) => key !== './package.json')).to.have.members(
      Object.keys(surface),
    );
    for (const [specifier, names] of Object.entries(surface)) {
      const entry = (await import(sourceOf(specifier))) as Record<string, unknown>;
      expect(Object.keys(entry).sort(), `exports of portcullis${specifier.slice(1)}`).to.deep.equal(names);
    }
  });

  it('declare express as a peer only and the drivers as optional peers', function () {
    expect(manifest.dependencies).to.not.have.any.keys('express', ...drivers);
    expect(manifest.peerDependencies).to.include.keys('express', 'mongoose', 'ioredis');
    expect(manifest.peerDependenciesMeta.express?.optional ?? false).to.equal(false);
    for (const driver of ['mongoose', 'ioredis'])
      expect(manifest.peerDependenciesMeta[driver]?.optional).to.equal(true);
    // The emitted declarations import jsonwebtoken's types: a consumer must get them without skipLibCheck.
    expect(manifest.dependencies).to.include.keys('jsonwebtoken', '@types/jsonwebtoken');
  });

  it('documents every name of the root in README.md or docs/ (in code)', function () {
    const texts = [
      readFileSync(`${root}README.md`, 'utf8'),
      ...readdirSync(`${root}docs`)
        .filter((file) => file.endsWith('.md'))
        .map((file) => readFileSync(`${root}docs/${file}`, 'utf8')),
    ];
    // Identifiers inside code spans and fenced blocks: prose that happens to use a word does not count.
    const code = new Set<string>();
    for (const text of texts) {
      for (const match of text.matchAll(/```[\s\S]*?```|`[^`\n]+`/g)) {
        for (const word of match[0].matchAll(/[A-Za-z_$][\w$]*/g)) code.add(word[0]);
      }
    }
    const undocumented = surface['.']!.filter((name) => !code.has(name));
    expect(undocumented, 'root exports never shown in code in README.md or docs/').to.deep.equal([]);
  });

  it('load no database driver from the root, the memory stores or createStores, and no prom-client or helmet until used', async function () {
    const [rootLoads, memoryLoads, storesLoads, withHeaders] = await Promise.all([
      packagesLoadedBy(sourceOf('.')),
      packagesLoadedBy(sourceOf('./memory')),
      packagesLoadedBy(sourceOf('./stores')),
      packagesLoadedBy(sourceOf('.'), 'm.securityHeaders(); m.createMetrics({ defaultMetrics: false });'),
    ]);
    expect(rootLoads).to.include('express');
    expect(among(rootLoads, [...drivers, 'prom-client', 'helmet'])).to.deep.equal([]);
    expect(among(memoryLoads, drivers)).to.deep.equal([]);
    expect(among(storesLoads, drivers)).to.deep.equal([]);
    // The detection sees packages loaded late and through require(): the factories load theirs when called.
    expect(withHeaders).to.include.members(['helmet', 'prom-client']);
  });

  it('load only their own driver from each backend entry (the other is an optional peer)', async function () {
    const [mongoLoads, redisLoads] = await Promise.all([
      packagesLoadedBy(sourceOf('./mongodb')),
      packagesLoadedBy(sourceOf('./redis')),
    ]);
    expect(mongoLoads).to.include.members(['mongoose', 'mongodb']);
    expect(mongoLoads).to.not.include('ioredis');
    expect(redisLoads).to.include('ioredis');
    expect(among(redisLoads, ['mongoose', 'mongodb'])).to.deep.equal([]);
  });
});

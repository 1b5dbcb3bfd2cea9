// Per-request cost of each authentication strategy (JWT verify, API key with its cache, session lookup in
// Redis, trusted proxy), beside jsonwebtoken used directly, then the HTTP stack against bare Express.
// Run: npx tsx bench/auth-strategies.ts   (uses REDIS_URL when set, else starts a throwaway redis-server)
import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import express, { type Request } from 'express';
import jwt from 'jsonwebtoken';
import { rateLimit as expressRateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import {
  ApiKeyHasher,
  apiKeyStrategy,
  authenticate,
  createJwtSigner,
  createJwtVerifier,
  createProxyTrust,
  generateApiKey,
  jwtStrategy,
  proxyStrategy,
  rateLimit,
  securityHeaders,
  type AuthStrategy,
} from 'portcullis';
import { MemoryPrincipalStore, MemoryRateLimitStore } from 'portcullis/memory';
import { RedisPrincipalCache, RedisSessionStore, connectRedis } from 'portcullis/redis';
// The bench needs a real Redis; the test helper starts one when REDIS_URL is not set.
import { startRedisServer } from '../test/support/servers.js';

const SECRET = 'bench-secret-with-at-least-thirty-two-bytes!!';

async function measure(fn: () => unknown, budgetMs = 1500): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < 100; i++) await fn();
    count += 100;
    elapsed = performance.now() - start;
  }
  return (count / elapsed) * 1000;
}

function row(name: string, perSecond: number, baseline?: number) {
  const micros = 1e6 / perSecond;
  const ratio = baseline ? `${(perSecond / baseline).toFixed(2)}x` : '';
  console.log(
    `${name.padEnd(62)} ${Math.round(perSecond).toString().padStart(9)}/s ${micros.toFixed(1).padStart(9)} µs  ${ratio}`,
  );
}

function fakeRequest(headers: Record<string, string>, remoteAddress = '127.0.0.1'): Request {
  return { headers, socket: { remoteAddress }, path: '/bench' } as unknown as Request;
}

async function main() {
  let stopRedis: (() => Promise<void>) | undefined;
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const server = await startRedisServer();
    redisUrl = server.url;
    stopRedis = () => server.stop();
  }
  const redis = await connectRedis(redisUrl);
  console.log(`node ${process.version}, Redis at ${new URL(redisUrl).host}\n`);

  const store = new MemoryPrincipalStore();
  await store.saveGroup({
    id: 'readers',
    permittedEndpoints: [{ method: 'GET', path: '^/records(/.*)?$' }],
    filterFields: [{ field: 'team', value: 'blue' }],
  });
  await store.savePrincipal({ id: 'alice', type: 'user', groups: ['readers'], attributes: { level: 2 } });
  const claims = { sub: 'alice', iss: 'portcullis' };

  console.log('== JWT verification alone (µs per token) ==');
  const hsToken = jwt.sign(claims, SECRET, { algorithm: 'HS256', expiresIn: 3600 });
  const hsKey = createSecretKey(Buffer.from(SECRET));
  const peerString = await measure(() => jwt.verify(hsToken, SECRET, { algorithms: ['HS256'] }));
  row('jsonwebtoken.verify, string secret (peer, the pitfall)', peerString);
  const peerKey = await measure(() => jwt.verify(hsToken, hsKey, { algorithms: ['HS256'] }));
  row('jsonwebtoken.verify, KeyObject (peer, done right)', peerKey, peerString);
  // cacheSize 0: every call checks the signature, as the peers do; the cached row shows a repeated token.
  const hsVerifier = createJwtVerifier({ algorithms: ['HS256'], secret: SECRET, issuer: 'portcullis', cacheSize: 0 });
  row('portcullis createJwtVerifier HS256', await measure(() => hsVerifier.verify(hsToken)), peerString);
  const cachedVerifier = createJwtVerifier({ algorithms: ['HS256'], secret: SECRET, issuer: 'portcullis' });
  row(
    'portcullis HS256, repeated token (verified-token cache)',
    await measure(() => cachedVerifier.verify(hsToken)),
    peerString,
  );
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsToken = jwt.sign(claims, rsa.privateKey, { algorithm: 'RS256', expiresIn: 3600 });
  const rsPem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
  const peerRs = await measure(() => jwt.verify(rsToken, rsPem, { algorithms: ['RS256'] }));
  row('jsonwebtoken.verify RS256, PEM string (peer)', peerRs);
  const rsVerifier = createJwtVerifier({ algorithms: ['RS256'], publicKey: rsPem, cacheSize: 0 });
  row('portcullis RS256', await measure(() => rsVerifier.verify(rsToken)), peerRs);
  const ed = generateKeyPairSync('ed25519');
  const edSigner = createJwtSigner({
    algorithm: 'EdDSA',
    privateKey: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }),
  });
  const edToken = edSigner.sign(claims, 3_600_000);
  const edVerifier = createJwtVerifier({
    cacheSize: 0,
    algorithms: ['EdDSA'],
    publicKey: ed.publicKey.export({ type: 'spki', format: 'pem' }),
  });
  row('portcullis EdDSA (node:crypto)', await measure(() => edVerifier.verify(edToken)), peerRs);

  console.log('\n== Whole strategy per request: credential → principal + merged permissions ==');
  const run = (strategy: AuthStrategy, req: Request) => () => strategy.authenticate(req);
  const jwtNoSession = jwtStrategy({ verifier: hsVerifier, store });
  const jwtReq = fakeRequest({ authorization: `Bearer ${hsToken}` });
  const baseJwt = await measure(run(jwtNoSession, jwtReq));
  row('jwt, no session (memory principals)', baseJwt);

  const prefix = `bench${Date.now()}:`;
  const sessions = new RedisSessionStore({ client: redis, prefix });
  await sessions.create({ id: 'bench-session-1', userId: 'alice', ttlMs: 3_600_000 });
  const sessionToken = jwt.sign({ ...claims, jti: 'bench-session-1' }, SECRET, { algorithm: 'HS256', expiresIn: 3600 });
  const jwtSession = jwtStrategy({ verifier: hsVerifier, store, sessions });
  row(
    'jwt + session lookup in Redis',
    await measure(run(jwtSession, fakeRequest({ authorization: `Bearer ${sessionToken}` }))),
    baseJwt,
  );

  const scryptHasher = new ApiKeyHasher();
  const generated = generateApiKey();
  await store.createApiKey({
    id: generated.id,
    principalId: 'alice',
    secretHash: await scryptHasher.hash(generated.secret),
    scopes: [],
    createdAt: new Date(),
  });
  const apiReq = fakeRequest({ 'x-api-key': generated.token });
  const coldHasher = () => apiKeyStrategy({ store, hasher: new ApiKeyHasher() });
  let cold: number;
  {
    const started = performance.now();
    for (let i = 0; i < 10; i++) await coldHasher().authenticate(apiReq);
    cold = 10_000 / (performance.now() - started);
  }
  row('api key, scrypt, cache miss (first request of a key per process)', cold);
  row(
    'api key, scrypt, verified-secret cache hit (memory store)',
    await measure(run(apiKeyStrategy({ store, hasher: scryptHasher }), apiReq)),
    baseJwt,
  );
  const pepper = new ApiKeyHasher({ pepper: createSecretKey(Buffer.from(SECRET)) });
  const peppered = generateApiKey();
  await store.createApiKey({
    id: peppered.id,
    principalId: 'alice',
    secretHash: await pepper.hash(peppered.secret),
    scopes: [],
    createdAt: new Date(),
  });
  row(
    'api key, HMAC-SHA256 with pepper (memory store)',
    await measure(run(apiKeyStrategy({ store, hasher: pepper }), fakeRequest({ 'x-api-key': peppered.token }))),
    baseJwt,
  );
  const cached = new RedisPrincipalCache({ store, client: redis, prefix });
  row(
    'api key, scrypt cache hit, records via shared Redis cache',
    await measure(run(apiKeyStrategy({ store: cached, hasher: scryptHasher }), apiReq)),
    baseJwt,
  );
  const proxy = proxyStrategy({ trust: createProxyTrust(['127.0.0.1']), store });
  row(
    'trusted proxy claims (memory principals)',
    await measure(run(proxy, fakeRequest({ 'x-oidc-sub': 'alice', 'x-oidc-groups': 'readers' }))),
    baseJwt,
  );

  console.log('\n== HTTP, autocannon 10 connections x 5 s each (req/s) ==');
  const http = async (
    name: string,
    build: (app: express.Express) => void,
    headers: Record<string, string> = {},
    baseline?: number,
  ) => {
    const app = express();
    app.disable('x-powered-by');
    build(app);
    app.get('/records', (_req, res) => res.json({ ok: true }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const result = await autocannon({ url: `http://127.0.0.1:${port}/records`, connections: 10, duration: 5, headers });
    server.close();
    row(name, result.requests.average, baseline);
    return result.requests.average;
  };
  const bare = await http('bare Express', () => undefined);
  const bearer = { authorization: `Bearer ${hsToken}` };
  await http(
    'helmet + express-rate-limit + jsonwebtoken.verify (peer stack)',
    (app) => {
      app.use(helmet());
      app.use(expressRateLimit({ limit: 1e9, windowMs: 60_000 }));
      app.use((req, _res, next) => (jwt.verify(String(req.headers.authorization).slice(7), hsKey), next()));
    },
    bearer,
    bare,
  );
  await http(
    'securityHeaders + rateLimit(memory) + authenticate(jwt)',
    (app) => {
      app.use(securityHeaders());
      app.use(authenticate({ strategies: [jwtNoSession] }));
      app.use(rateLimit({ store: new MemoryRateLimitStore(), limit: 1e9 }));
    },
    bearer,
    bare,
  );

  redis.disconnect();
  await stopRedis?.();
}

await main();

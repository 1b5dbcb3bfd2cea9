// JWT bearer authentication over HTTP: every forged, confused, expired or misaddressed token is a bare 401.
import { expect } from 'chai';
import { createHmac, createSign, generateKeyPairSync, sign as edSign } from 'node:crypto';
import express from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createJwtVerifier, type JwtVerifierOptions } from '../../../src/auth/jwt.js';
import { ConfigError } from '../../../src/errors.js';
import { authenticate } from '../../../middleware/authenticate.js';
import { jwtStrategy } from '../../../middleware/auth-strategies.js';
import { contextOf } from '../../../middleware/context.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { MemoryPrincipalStore } from '../../../stores/memory/principals.js';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const ed = generateKeyPairSync('ed25519');
const now = () => Date.now();
const base = { sub: 'alice', iss: 'portcullis', aud: 'api' };

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function appWith(options: Omit<JwtVerifierOptions, 'issuer' | 'audience'>) {
  const store = new MemoryPrincipalStore();
  await store.savePrincipal({
    id: 'alice',
    type: 'user',
    name: 'Alice',
    groups: ['readers'],
    attributes: { department: 'sales' },
  });
  await store.saveGroup({ id: 'readers', permittedEndpoints: [{ method: 'GET', path: '^/whoami$' }] });
  const verifier = createJwtVerifier({ ...options, issuer: 'portcullis', audience: 'api' });
  const app = express();
  app.use(authenticate({ strategies: [jwtStrategy({ verifier, store })] }));
  app.get('/whoami', (req, res) => res.json(contextOf(req)));
  app.use(errorHandler());
  return app;
}

async function expectRejected(app: express.Express, token: string) {
  const response = await request(app).get('/whoami').set('Authorization', `Bearer ${token}`);
  expect(response.status).to.equal(401);
  expect(response.headers['content-type']).to.match(/application\/problem\+json/);
  expect(response.headers['www-authenticate']).to.equal('Bearer realm="portcullis", error="invalid_token"');
  // The same words for every failure: the answer never says which check failed.
  expect(response.body.detail).to.equal('The credentials are not valid.');
  expect(response.body.code).to.equal('authentication.invalid_credentials');
  expect(JSON.stringify(response.body)).to.not.match(/expired|signature|audience|algorithm|stack/i);
}

describe('auth: JWT bearer (HS256)', function () {
  let app: express.Express;
  before(async function () {
    app = await appWith({ algorithms: ['HS256'], secret: SECRET });
  });

  it('accepts a valid token and puts principal and permissions on the context', async function () {
    const token = jwt.sign(base, SECRET, { algorithm: 'HS256', expiresIn: 60 });
    const response = await request(app).get('/whoami').set('Authorization', `Bearer ${token}`);
    expect(response.status).to.equal(200);
    expect(response.body.principal).to.include({ id: 'alice', kind: 'user', name: 'Alice' });
    expect(response.body.principal.attributes).to.deep.equal({ department: 'sales' });
    expect(response.body.permissions.endpoints).to.deep.equal([{ method: 'GET', path: '^/whoami$' }]);
  });

  it('rejects a forged signature', async function () {
    await expectRejected(app, jwt.sign(base, 'another-secret-that-is-also-32-bytes-long!', { expiresIn: 60 }));
  });

  it('rejects a tampered payload', async function () {
    const [header, , signature] = jwt.sign(base, SECRET, { expiresIn: 60 }).split('.');
    await expectRejected(app, `${header}.${b64({ ...base, sub: 'admin', exp: 9_999_999_999 })}.${signature}`);
  });

  it('rejects alg "none", with or without a signature part', async function () {
    const payload = b64({ ...base, exp: Math.floor(now() / 1000) + 60 });
    await expectRejected(app, `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`);
    await expectRejected(app, `${b64({ alg: 'none', typ: 'JWT' })}.${payload}`);
    await expectRejected(app, `${b64({ alg: 'NONE', typ: 'JWT' })}.${payload}.`);
  });

  it('rejects expired and not-yet-valid tokens (beyond the clock tolerance)', async function () {
    const past = Math.floor(now() / 1000) - 120;
    await expectRejected(app, jwt.sign({ ...base, iat: past - 60, exp: past }, SECRET));
    await expectRejected(app, jwt.sign({ ...base, nbf: Math.floor(now() / 1000) + 120 }, SECRET, { expiresIn: 600 }));
  });

  it('rejects a wrong audience, a wrong issuer and a token without exp', async function () {
    await expectRejected(app, jwt.sign({ ...base, aud: 'other' }, SECRET, { expiresIn: 60 }));
    await expectRejected(app, jwt.sign({ ...base, iss: 'evil' }, SECRET, { expiresIn: 60 }));
    await expectRejected(app, jwt.sign(base, SECRET));
  });

  it('rejects an RS256 token when only HS256 is allowed', async function () {
    await expectRejected(app, jwt.sign(base, rsa.privateKey, { algorithm: 'RS256', expiresIn: 60 }));
  });

  it('rejects garbage, oversized tokens and a bad sub, and answers 401 (not anonymous) without a token', async function () {
    await expectRejected(app, 'not.a.token');
    await expectRejected(app, 'x'.repeat(9000));
    await expectRejected(app, jwt.sign({ ...base, sub: { $ne: null } }, SECRET, { expiresIn: 60 }));
    const missing = await request(app).get('/whoami');
    expect(missing.status).to.equal(401);
    expect(missing.body.code).to.equal('authentication.required');
    expect(missing.headers['www-authenticate']).to.equal('Bearer realm="portcullis"');
  });
});

describe('auth: JWT bearer (RS256 and EdDSA)', function () {
  it('accepts RS256 and rejects the HS256-with-public-key confusion attack', async function () {
    const app = await appWith({ algorithms: ['RS256'], publicKey: rsaPublicPem });
    const good = jwt.sign(base, rsa.privateKey, { algorithm: 'RS256', expiresIn: 60 });
    expect((await request(app).get('/whoami').set('Authorization', `Bearer ${good}`)).status).to.equal(200);
    // The classic attack: sign HS256 with the server's public key text as the HMAC secret.
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    const payload = b64({ ...base, exp: Math.floor(now() / 1000) + 60 });
    const signature = createHmac('sha256', rsaPublicPem).update(`${header}.${payload}`).digest('base64url');
    await expectRejected(app, `${header}.${payload}.${signature}`);
  });

  it('verifies EdDSA with the key from a JWKS, chosen by kid', async function () {
    const jwk = { ...ed.publicKey.export({ format: 'jwk' }), kid: 'k1' };
    const app = await appWith({ algorithms: ['EdDSA'], jwks: { keys: [jwk] } });
    const sign = (header: object, claims: object) => {
      const input = `${b64(header)}.${b64(claims)}`;
      return `${input}.${edSign(null, Buffer.from(input), ed.privateKey).toString('base64url')}`;
    };
    const claims = { ...base, exp: Math.floor(now() / 1000) + 60 };
    const good = sign({ alg: 'EdDSA', kid: 'k1' }, claims);
    expect((await request(app).get('/whoami').set('Authorization', `Bearer ${good}`)).status).to.equal(200);
    await expectRejected(app, sign({ alg: 'EdDSA', kid: 'unknown' }, claims));
    await expectRejected(app, sign({ alg: 'EdDSA', kid: 'k1' }, { ...claims, aud: 'other' }));
    await expectRejected(app, sign({ alg: 'EdDSA', kid: 'k1' }, { ...base, exp: Math.floor(now() / 1000) - 60 }));
    const other = generateKeyPairSync('ed25519');
    const input = `${b64({ alg: 'EdDSA', kid: 'k1' })}.${b64(claims)}`;
    await expectRejected(app, `${input}.${edSign(null, Buffer.from(input), other.privateKey).toString('base64url')}`);
  });

  it('accepts ES256 and rejects an RS256-signed token when only ES256 is allowed', async function () {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const app = await appWith({
      algorithms: ['ES256'],
      publicKey: ec.publicKey.export({ type: 'spki', format: 'pem' }),
    });
    const good = jwt.sign(base, ec.privateKey, { algorithm: 'ES256', expiresIn: 60 });
    expect((await request(app).get('/whoami').set('Authorization', `Bearer ${good}`)).status).to.equal(200);
    const signer = createSign('SHA256');
    const input = `${b64({ alg: 'RS256' })}.${b64({ ...base, exp: Math.floor(now() / 1000) + 60 })}`;
    signer.update(input);
    await expectRejected(app, `${input}.${signer.sign(rsa.privateKey).toString('base64url')}`);
  });
});

describe('auth: JWT verifier options are checked at creation', function () {
  const fails = (options: unknown, pattern: RegExp) =>
    expect(() => createJwtVerifier(options as JwtVerifierOptions))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(pattern);

  it('requires an algorithm allowlist and refuses mixing HMAC with public-key algorithms', function () {
    fails({ secret: SECRET }, /^algorithms: is required/);
    fails({ algorithms: [], secret: SECRET }, /^algorithms: is required/);
    fails({ algorithms: ['HS256', 'RS256'], secret: SECRET }, /mixes HMAC and public-key/);
    fails({ algorithms: ['none'], secret: SECRET }, /none is not supported/);
  });

  it('refuses short secrets, missing keys and keys of the wrong type', function () {
    fails({ algorithms: ['HS256'], secret: 'short' }, /^secret: must be at least 32 bytes/);
    fails({ algorithms: ['HS256'] }, /^secret: is required/);
    fails({ algorithms: ['RS256'] }, /^publicKey: is required/);
    fails({ algorithms: ['RS256'], publicKey: 'not a pem' }, /^publicKey: is not a valid PEM/);
    fails({ algorithms: ['ES256'], publicKey: rsaPublicPem }, /fits none of ES256/);
    fails({ algorithms: ['RS256'], publicKey: rsaPublicPem, secret: SECRET }, /^secret: cannot be combined/);
    fails({ algorithms: ['HS256'], secret: SECRET, publicKey: rsaPublicPem }, /^publicKey: cannot be combined/);
    fails({ algorithms: ['HS256'], secret: SECRET, clockToleranceSec: -1 }, /^clockToleranceSec/);
  });
});

describe('auth: JWT verified-token cache', function () {
  let clock = Date.now();
  const sign = (claims: object, seconds: number) =>
    jwt.sign({ ...base, ...claims }, SECRET, { expiresIn: seconds, noTimestamp: true });

  it('answers a repeated token from the cache until it expires, then rejects it', function () {
    clock = Date.now();
    const verifier = createJwtVerifier({
      algorithms: ['HS256'],
      secret: SECRET,
      issuer: 'portcullis',
      audience: 'api',
      clockToleranceSec: 0,
      now: () => clock,
    });
    const token = sign({}, 60);
    expect(verifier.verify(token).sub).to.equal('alice');
    const again = verifier.verify(token);
    again.sub = 'mallory';
    expect(verifier.verify(token).sub).to.equal('alice', 'callers get copies');
    clock = Date.now() + 61_000;
    expect(() => verifier.verify(token)).to.throw('expired');
  });

  it('never lets a forged token ride on a cached one', function () {
    const verifier = createJwtVerifier({
      algorithms: ['HS256'],
      secret: SECRET,
      issuer: 'portcullis',
      audience: 'api',
    });
    const token = sign({}, 60);
    verifier.verify(token);
    const [header, , signature] = token.split('.');
    const forged = `${header}.${b64({ ...base, sub: 'admin', exp: Math.floor(Date.now() / 1000) + 60 })}.${signature}`;
    expect(() => verifier.verify(forged)).to.throw();
    expect(() => verifier.verify(`${token}x`)).to.throw();
  });

  it('keeps at most cacheSize tokens, the least recently used dropped; cacheSize 0 keeps none', function () {
    const options = { algorithms: ['HS256' as const], secret: SECRET, issuer: 'portcullis', audience: 'api' };
    const tokens = Array.from({ length: 5 }, (_, n) => sign({ n }, 60));
    const small = createJwtVerifier({ ...options, cacheSize: 2 });
    for (const token of tokens) small.verify(token);
    expect(small.cachedTokens).to.equal(2);
    const none = createJwtVerifier({ ...options, cacheSize: 0 });
    for (const token of tokens) expect(none.verify(token).n).to.be.a('number');
    expect(none.cachedTokens).to.equal(0);
    expect(() => createJwtVerifier({ algorithms: ['HS256'], secret: SECRET, cacheSize: -1 }))
      .to.throw(ConfigError)
      .with.property('option', 'cacheSize');
  });
});

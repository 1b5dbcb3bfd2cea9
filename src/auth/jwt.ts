// JWT verification and signing with key objects built once; an explicit algorithm allowlist of one family.
import { integerOption, numberOption } from '../options.js';
import { LRUCache } from 'lru-cache';
import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { systemClock, type Clock } from '../clock.js';
import { ConfigError } from '../errors.js';

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const PUBLIC_KEY_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type JwtAlgorithm = (typeof HMAC_ALGORITHMS)[number] | (typeof PUBLIC_KEY_ALGORITHMS)[number];
const ALL_ALGORITHMS: readonly string[] = [...HMAC_ALGORITHMS, ...PUBLIC_KEY_ALGORITHMS];

/** Longest token considered; longer ones are rejected before decoding. */
export const MAX_TOKEN_LENGTH = 8192;
const MIN_SECRET_BYTES = 32;

export interface JwtKeyOptions {
  /** Required: the accepted `alg` values, all HMAC or all public-key (mixing them is refused). */
  algorithms: readonly JwtAlgorithm[];
  /** HMAC secret (HS*), at least 32 bytes. */
  secret?: string | Buffer;
  /** PEM public key (RS*, PS*, ES*, EdDSA). */
  publicKey?: string | Buffer;
  /** A JWKS document (`{ keys: [...] }`); tokens pick a key by `kid`. */
  jwks?: { keys: JsonWebKey[] };
}

export interface JwtVerifierOptions extends JwtKeyOptions {
  /** Accepted `iss` (one or several). Default: not checked. */
  issuer?: string | string[];
  /** Accepted `aud` (one or several). Default: not checked. */
  audience?: string | string[];
  /** Seconds of clock skew accepted on `exp` and `nbf`. Default 5. */
  clockToleranceSec?: number;
  /** Refuse tokens without `exp`. Default true. */
  requireExpiry?: boolean;
  /**
   * Verified tokens remembered (least recently used dropped), so a client's next request skips the
   * signature check; `exp` and `nbf` are still checked on every use. 0 turns it off. Default 1000.
   */
  cacheSize?: number;
  now?: Clock;
}

export type JwtClaims = jwt.JwtPayload;

/** A rejected token; `reason` is for logs only and never reaches the client. */
export class JwtRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JwtRejected';
  }
}

function familyOf(algorithm: string): 'hmac' | 'public' {
  return algorithm.startsWith('HS') ? 'hmac' : 'public';
}

function keyFits(algorithm: string, key: KeyObject): boolean {
  if (algorithm.startsWith('HS')) return key.type === 'secret';
  const type = key.asymmetricKeyType;
  if (/^(RS|PS)/.test(algorithm)) return type === 'rsa' || type === 'rsa-pss';
  if (algorithm.startsWith('ES')) return type === 'ec';
  return type === 'ed25519' || type === 'ed448';
}

function checkAlgorithms(algorithms: unknown): JwtAlgorithm[] {
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new ConfigError('algorithms', 'is required: list the accepted JWT algorithms, e.g. ["HS256"] or ["RS256"]', {
      code: 'config.jwt.algorithms',
    });
  }
  for (const algorithm of algorithms) {
    if (!ALL_ALGORITHMS.includes(algorithm as string)) {
      throw new ConfigError('algorithms', `${String(algorithm)} is not supported (use ${ALL_ALGORITHMS.join(', ')})`, {
        code: 'config.jwt.algorithms',
      });
    }
  }
  if (new Set(algorithms.map(familyOf)).size > 1) {
    throw new ConfigError('algorithms', 'mixes HMAC and public-key algorithms, which allows key-type confusion', {
      code: 'config.jwt.algorithms',
    });
  }
  return algorithms as JwtAlgorithm[];
}

interface KeyRing {
  /** The key for a token's header, or undefined. */
  select(header: jwt.JwtHeader): KeyObject | undefined;
}

function buildKeyRing(options: JwtKeyOptions, algorithms: JwtAlgorithm[]): KeyRing {
  const family = familyOf(algorithms[0]!);
  if (family === 'hmac') {
    if (options.secret === undefined) throw new ConfigError('secret', 'is required for HS* algorithms');
    if (options.publicKey !== undefined || options.jwks !== undefined) {
      throw new ConfigError('publicKey', 'cannot be combined with HS* algorithms (key-type confusion)');
    }
    const bytes = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret;
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new ConfigError('secret', `must be at least ${MIN_SECRET_BYTES} bytes for HS* algorithms`);
    }
    const key = createSecretKey(bytes);
    return { select: () => key };
  }
  if (options.secret !== undefined) {
    throw new ConfigError('secret', 'cannot be combined with public-key algorithms (key-type confusion)');
  }
  const fitsSome = (key: KeyObject, option: string) => {
    if (!algorithms.some((algorithm) => keyFits(algorithm, key))) {
      throw new ConfigError(option, `a ${key.asymmetricKeyType} key fits none of ${algorithms.join(', ')}`);
    }
    return key;
  };
  if (options.jwks !== undefined) {
    if (!Array.isArray(options.jwks?.keys) || options.jwks.keys.length === 0) {
      throw new ConfigError('jwks', 'must be a JWKS document with a non-empty "keys" list');
    }
    const byKid = new Map<string, KeyObject>();
    const all: KeyObject[] = [];
    options.jwks.keys.forEach((jwk, index) => {
      if (jwk.kty === 'oct') throw new ConfigError(`jwks.keys.${index}`, 'symmetric keys are not accepted in a JWKS');
      let key: KeyObject;
      try {
        key = fitsSome(createPublicKey({ key: jwk, format: 'jwk' }), `jwks.keys.${index}`);
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        throw new ConfigError(`jwks.keys.${index}`, 'is not a valid public JWK', { cause: error });
      }
      all.push(key);
      if (typeof jwk.kid === 'string') byKid.set(jwk.kid, key);
    });
    return {
      select(header) {
        if (typeof header.kid === 'string') return byKid.get(header.kid);
        return all.length === 1 ? all[0] : undefined;
      },
    };
  }
  if (options.publicKey === undefined) {
    throw new ConfigError('publicKey', 'is required for public-key algorithms (or give jwks)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey(options.publicKey);
  } catch (error) {
    throw new ConfigError('publicKey', 'is not a valid PEM public key', { cause: error });
  }
  if (key.type !== 'public') throw new ConfigError('publicKey', 'must be a public key');
  fitsSome(key, 'publicKey');
  return { select: () => key };
}

function checkStringOrList(option: string, value: unknown): void {
  if (value === undefined) return;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new ConfigError(option, 'must be a non-empty string or list of strings');
  }
}

export interface JwtVerifier {
  readonly algorithms: readonly JwtAlgorithm[];
  /** The verified claims; throws `JwtRejected` for any invalid token. */
  verify(token: string): JwtClaims;
  /** Tokens held in the verified-token cache now. */
  readonly cachedTokens: number;
}

/** Builds a verifier; every option is checked and every key object created here, once. */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const algorithms = checkAlgorithms(options?.algorithms);
  const ring = buildKeyRing(options, algorithms);
  checkStringOrList('issuer', options.issuer);
  checkStringOrList('audience', options.audience);
  const tolerance = numberOption('clockToleranceSec', options.clockToleranceSec, { fallback: 5, max: 600 });
  const requireExpiry = options.requireExpiry ?? true;
  const cacheSize = integerOption('cacheSize', options.cacheSize, { fallback: 1000 });
  // Keyed by the whole token: only a token that verified is stored, so a forged one can never hit.
  const verified = cacheSize > 0 ? new LRUCache<string, JwtClaims>({ max: cacheSize }) : undefined;
  const now = options.now ?? systemClock;
  const allowed = new Set<string>(algorithms);
  const issuers = options.issuer === undefined ? undefined : [options.issuer].flat();
  const audiences = options.audience === undefined ? undefined : [options.audience].flat();
  const verifyOptions = {
    algorithms: [...algorithms].filter((a) => a !== 'EdDSA') as jwt.Algorithm[],
    ...(issuers ? { issuer: issuers as [string, ...string[]] } : {}),
    ...(audiences ? { audience: audiences as [string, ...string[]] } : {}),
    clockTolerance: tolerance,
  };

  function remembered(token: string): JwtClaims | undefined {
    const claims = verified?.get(token);
    if (!claims) return undefined;
    const time = Math.floor(now() / 1000);
    if (typeof claims.exp === 'number' && time >= claims.exp + tolerance) {
      verified!.delete(token);
      throw new JwtRejected('expired');
    }
    if (typeof claims.nbf === 'number' && claims.nbf > time + tolerance) throw new JwtRejected('not yet valid');
    return { ...claims };
  }

  function remember(token: string, claims: JwtClaims): void {
    verified?.set(token, { ...claims });
  }

  return {
    algorithms,
    get cachedTokens() {
      return verified?.size ?? 0;
    },
    verify(token: string): JwtClaims {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw new JwtRejected('malformed');
      }
      const known = remembered(token);
      if (known) return known;
      // Only the header is read here (alg, kid); jsonwebtoken parses the rest once, after the allowlist check.
      const header = decodeHeader(token);
      const alg = header.alg;
      if (typeof alg !== 'string' || !allowed.has(alg)) throw new JwtRejected('algorithm not allowed');
      const key = ring.select(header);
      if (!key || !keyFits(alg, key)) throw new JwtRejected('no key for this token');
      const clockTimestamp = Math.floor(now() / 1000);
      let claims: JwtClaims;
      if (alg === 'EdDSA') {
        const decoded = jwt.decode(token, { complete: true });
        if (!decoded || typeof decoded.payload !== 'object') throw new JwtRejected('malformed');
        claims = verifyEdDsa(token, key, decoded.payload, { issuers, audiences, tolerance, clockTimestamp });
      } else {
        try {
          claims = jwt.verify(token, key, { ...verifyOptions, clockTimestamp }) as JwtClaims;
        } catch (error) {
          throw new JwtRejected((error as Error).name === 'TokenExpiredError' ? 'expired' : (error as Error).message);
        }
      }
      if (requireExpiry && typeof claims.exp !== 'number') throw new JwtRejected('no exp claim');
      remember(token, claims);
      return claims;
    },
  };
}

function decodeHeader(token: string): jwt.JwtHeader {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.indexOf('.', dot + 1) < 0) throw new JwtRejected('malformed');
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error('not an object');
    return header as jwt.JwtHeader;
  } catch {
    throw new JwtRejected('malformed');
  }
}

// jsonwebtoken (through jws) knows no EdDSA; node:crypto verifies it and the claims are checked here.
function verifyEdDsa(
  token: string,
  key: KeyObject,
  payload: JwtClaims,
  checks: { issuers?: string[]; audiences?: string[]; tolerance: number; clockTimestamp: number },
): JwtClaims {
  const [header, body, signature] = token.split('.');
  if (!signature) throw new JwtRejected('signature required');
  const valid = cryptoVerify(null, Buffer.from(`${header}.${body}`), key, Buffer.from(signature, 'base64url'));
  if (!valid) throw new JwtRejected('invalid signature');
  const { clockTimestamp: t, tolerance } = checks;
  if (payload.exp !== undefined && (typeof payload.exp !== 'number' || t >= payload.exp + tolerance)) {
    throw new JwtRejected('expired');
  }
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > t + tolerance)) {
    throw new JwtRejected('not yet valid');
  }
  if (checks.issuers && !checks.issuers.includes(payload.iss as string)) throw new JwtRejected('wrong issuer');
  if (checks.audiences) {
    const aud = [payload.aud ?? []].flat();
    if (!aud.some((a) => checks.audiences!.includes(a))) throw new JwtRejected('wrong audience');
  }
  return payload;
}

export interface JwtSignerOptions {
  /** The one algorithm tokens are signed with. */
  algorithm: JwtAlgorithm;
  /** HMAC secret (HS*), at least 32 bytes. */
  secret?: string | Buffer;
  /** PEM private key (RS*, PS*, ES*, EdDSA). */
  privateKey?: string | Buffer;
  /** `kid` header, to pick the key from a JWKS. */
  keyId?: string;
  issuer?: string;
  audience?: string;
  now?: Clock;
}

export interface JwtSigner {
  readonly algorithm: JwtAlgorithm;
  /** Signs `claims`, adding `iat`, `exp` (from `ttlMs`), `iss` and `aud`. */
  sign(claims: Record<string, unknown>, ttlMs: number): string;
}

export function createJwtSigner(options: JwtSignerOptions): JwtSigner {
  const [algorithm] = checkAlgorithms([options?.algorithm]);
  let key: KeyObject;
  if (familyOf(algorithm!) === 'hmac') {
    if (options.secret === undefined) throw new ConfigError('secret', 'is required to sign with HS* algorithms');
    const bytes = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret;
    if (bytes.length < MIN_SECRET_BYTES) throw new ConfigError('secret', `must be at least ${MIN_SECRET_BYTES} bytes`);
    key = createSecretKey(bytes);
  } else {
    if (options.privateKey === undefined) throw new ConfigError('privateKey', `is required to sign with ${algorithm}`);
    try {
      key = createPrivateKey(options.privateKey);
    } catch (error) {
      throw new ConfigError('privateKey', 'is not a valid PEM private key', { cause: error });
    }
    if (!keyFits(algorithm!, key)) throw new ConfigError('privateKey', `does not fit ${algorithm}`);
  }
  const now = options.now ?? systemClock;
  return {
    algorithm: algorithm!,
    sign(claims, ttlMs) {
      const iat = Math.floor(now() / 1000);
      const payload = {
        ...claims,
        iat,
        exp: iat + Math.ceil(ttlMs / 1000),
        ...(options.issuer ? { iss: options.issuer } : {}),
        ...(options.audience ? { aud: options.audience } : {}),
      };
      if (algorithm === 'EdDSA') {
        const header = { alg: 'EdDSA', typ: 'JWT', ...(options.keyId ? { kid: options.keyId } : {}) };
        const input = `${b64(header)}.${b64(payload)}`;
        return `${input}.${cryptoSign(null, Buffer.from(input), key).toString('base64url')}`;
      }
      return jwt.sign(payload, key, {
        algorithm: algorithm as jwt.Algorithm,
        ...(options.keyId ? { keyid: options.keyId } : {}),
      });
    },
  };
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

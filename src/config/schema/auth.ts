// Variables of authentication (JWT, sessions, API keys, trusted-proxy claims) and of rate limits.
import { ipRangeProblem } from '../../ip.js';
import { booleanVar, defineVariables, durationVar, enumVar, integerVar, listVar, stringVar } from '../variables.js';

const HEADER = /^[A-Za-z0-9-]{1,64}$/;

export const authVariables = defineVariables({
  AUTH_STRATEGIES: listVar({
    default: ['apiKey', 'jwt'],
    item(item) {
      if (!['apiKey', 'jwt', 'proxy'].includes(item))
        throw new Error(`unknown strategy "${item}" (apiKey, jwt, proxy)`);
    },
    description:
      'Authentication strategies in the order they are tried (`apiKey`, `jwt`, `proxy`); the first that finds a credential decides.',
  }),
  JWT_ALGORITHMS: listVar({
    default: ['HS256'],
    item(item) {
      if (!/^(HS(256|384|512)|RS(256|384|512)|PS(256|384|512)|ES(256|384|512)|EdDSA)$/.test(item)) {
        throw new Error(`unsupported algorithm "${item.slice(0, 16)}"`);
      }
    },
    description:
      'Accepted JWT algorithms, all HMAC (HS256...) or all public-key (RS256, ES256, EdDSA...); never mixed.',
  }),
  JWT_SECRET: stringVar({
    secret: true,
    pattern: /^.{32,}$/,
    description:
      'HMAC secret (at least 32 characters) for HS* tokens. Unset: a random one per process (single process only).',
  }),
  JWT_PUBLIC_KEY_FILE: stringVar({ description: 'PEM file with the public key that verifies RS/PS/ES/EdDSA tokens.' }),
  JWT_JWKS_FILE: stringVar({ description: 'JWKS file (`{"keys": [...]}`) whose keys verify tokens, chosen by `kid`.' }),
  JWT_PRIVATE_KEY_FILE: stringVar({
    description: 'PEM private key that signs login tokens with the first public-key algorithm of JWT_ALGORITHMS.',
  }),
  JWT_ISSUER: stringVar({
    default: 'portcullis',
    description: 'The `iss` of issued tokens and the only one accepted.',
  }),
  JWT_AUDIENCE: stringVar({ description: 'The `aud` of issued tokens and the only one accepted; unset: not checked.' }),
  JWT_CLOCK_TOLERANCE: durationVar({
    default: 5000,
    max: 600_000,
    description: 'Clock skew accepted on `exp` and `nbf`; at most 10m.',
  }),
  SESSION_TTL: durationVar({
    default: 12 * 3_600_000,
    min: 1000,
    max: 365 * 86_400_000,
    description: 'Lifetime of a login session and its token; at most 365d.',
  }),
  SESSION_REQUIRED: booleanVar({
    default: true,
    description: 'When true, a JWT is accepted only if its `jti` names a live session (so logout revokes it at once).',
  }),
  API_KEY_HEADER: stringVar({ default: 'x-api-key', pattern: HEADER, description: 'Header carrying API keys.' }),
  API_KEY_PEPPER: stringVar({
    secret: true,
    pattern: /^.{32,}$/,
    description: 'Server key (32+ characters) for HMAC-hashing API-key secrets; unset: scrypt, cached per process.',
  }),
  PRINCIPAL_CACHE_TTL: durationVar({
    default: 60_000,
    min: 1000,
    description:
      'Lifetime of principal, group and API-key entries in the shared Redis cache (when REDIS_URL is set); a changed entry is read from the store of record for as long.',
  }),
  TRUSTED_PROXIES: listVar({
    default: [],
    // Checked whether or not the proxy strategy is on: a typo must not wait for the day it is turned on.
    item: (entry) => {
      const problem = ipRangeProblem(entry);
      if (problem) throw new Error(problem);
    },
    description:
      'Addresses or CIDR subnets of the proxy allowed to send OIDC claim headers; from others they are ignored. Each entry is checked at start, with or without `proxy` in AUTH_STRATEGIES.',
  }),
  OIDC_USER_HEADER: stringVar({
    default: 'x-oidc-sub',
    pattern: HEADER,
    description: 'Claim header with the user id.',
  }),
  OIDC_NAME_HEADER: stringVar({ default: 'x-oidc-name', pattern: HEADER, description: 'Claim header with the name.' }),
  OIDC_EMAIL_HEADER: stringVar({
    default: 'x-oidc-email',
    pattern: HEADER,
    description: 'Claim header with the email.',
  }),
  OIDC_GROUPS_HEADER: stringVar({
    default: 'x-oidc-groups',
    pattern: HEADER,
    description: 'Claim header with the OIDC groups, comma-separated.',
  }),
  RATE_LIMIT_WINDOW: durationVar({ default: 60_000, min: 1000, description: 'Rate-limit window.' }),
  RATE_LIMIT_MAX: integerVar({
    default: 300,
    min: 1,
    description:
      'Requests per window per API key, user or IP; in `createPortcullis().app()` also login attempts (`POST /auth/login`, `/auth/login/totp`) per IP.',
  }),
  RATE_LIMIT_LOGIN_MAX: integerVar({
    default: 10,
    min: 1,
    description:
      'Failed logins or API-key checks per window for one account (username, key id) from one address; past it that account is refused from that address.',
  }),
  RATE_LIMIT_FAILURES_MAX: integerVar({
    default: 300,
    min: 1,
    description:
      'Failed credential checks per window from one address, all accounts together; past it each account may fail once more there. Valid credentials still pass.',
  }),
  RATE_LIMIT_ON_STORE_ERROR: enumVar({
    values: ['open', 'closed'],
    default: 'open',
    description: 'When the counter store is down: `open` serves requests unlimited, `closed` answers 503.',
  }),
  RATE_LIMIT_IPV6_SUBNET: integerVar({
    default: 56,
    min: 32,
    max: 128,
    description: 'IPv6 clients are counted per subnet of this prefix length.',
  }),
  TOTP_ISSUER: stringVar({
    default: 'Portcullis',
    pattern: /^[^:]{1,64}$/,
    description:
      'Issuer name authenticator apps show for the TOTP second factor (enabled when ENCRYPTION_KEYS is set: the secrets are encrypted with it).',
  }),
  TOTP_WINDOW: integerVar({
    default: 1,
    min: 0,
    max: 10,
    description: 'TOTP codes accepted this many 30-second steps before and after the current one (clock drift).',
  }),
  TOTP_MAX_ATTEMPTS: integerVar({
    default: 5,
    min: 1,
    description:
      'Wrong TOTP or recovery codes per TOTP_ATTEMPT_WINDOW for one principal, from all addresses together; past it the code step answers 429.',
  }),
  TOTP_ATTEMPT_WINDOW: durationVar({
    default: 15 * 60_000,
    min: 1000,
    description: 'Window of TOTP_MAX_ATTEMPTS.',
  }),
  TOTP_PENDING_TTL: durationVar({
    default: 5 * 60_000,
    min: 10_000,
    max: 3_600_000,
    description:
      'How long a login that gave the right password waits for its TOTP code (`POST /auth/login/totp`) before the password must be given again (at most 1h).',
  }),
  TOTP_BYPASS_MAX: durationVar({
    default: 86_400_000,
    min: 60_000,
    max: 30 * 86_400_000,
    description:
      'Longest TOTP bypass an administrator may grant (`PUT /admin/principals/:id/totp-bypass`, `durationMs`); at most 30d.',
  }),
});

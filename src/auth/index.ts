// The framework-free half of authentication: permission merging, credentials and token checks.
export {
  mergePermissions,
  combineAlternatives,
  isEndpointPermitted,
  forbiddenUpdateFields,
  noPermissions,
} from './permissions.js';
export { validateEndpoint, compileEndpoint, MAX_ENDPOINT_PATTERN_LENGTH } from './endpoints.js';
export { validatePrincipal, validateGroup, checkGrants, isSafeFieldName } from './validate.js';
export {
  exceeds,
  isSubset,
  mayGrant,
  mayIssueCredential,
  mayWritePolicies,
  assertNoEscalation,
  authorityOf,
  isFullAdmin,
  type Authority,
  type Holding,
} from './escalation.js';
export { permissionsOf, permissionsOfOidcUser, principalFrom } from './resolve.js';
export {
  generateApiKey,
  parseApiKey,
  derivedKeyId,
  ApiKeyHasher,
  apiKeyUnusable,
  MAX_API_KEY_LENGTH,
  type GeneratedApiKey,
  type ApiKeyHasherOptions,
} from './api-keys.js';
export { scryptHash, hmacHash, verifySecret, DEFAULT_SCRYPT, type ScryptParameters } from './secrets.js';
export {
  createJwtVerifier,
  createJwtSigner,
  JwtRejected,
  HMAC_ALGORITHMS,
  PUBLIC_KEY_ALGORITHMS,
  MAX_TOKEN_LENGTH,
  type JwtAlgorithm,
  type JwtClaims,
  type JwtKeyOptions,
  type JwtVerifierOptions,
  type JwtVerifier,
  type JwtSignerOptions,
  type JwtSigner,
} from './jwt.js';
export { createProxyTrust, type ProxyTrust } from './proxy-trust.js';
export {
  CRUD_SCOPE_LEVELS,
  defaultScope,
  methodLevel,
  scopeGrants,
  verbLevel,
  type CrudAction,
  type ScopeLevel,
} from './scopes.js';

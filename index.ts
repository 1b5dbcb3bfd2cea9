// The package root (`portcullis`): the middlewares, routers and core API an application composes. A curated
// list, each name documented in README.md or docs/; importing it loads no database driver (stores for
// MongoDB and Redis are in `portcullis/mongodb` and `portcullis/redis`, the memory ones in `portcullis/memory`).

// Everything from the configuration in one call (app/create-portcullis.ts).
export {
  createPortcullis,
  type CreatePortcullisOptions,
  type Portcullis,
  type PortcullisCrudOptions,
  type PiiField,
} from './app/create-portcullis.js';

// Request plumbing and errors.
export { requestContext, type RequestContextOptions } from './middleware/request-context.js';
export { contextOf } from './middleware/context.js';
export { jsonBody, type JsonBodyOptions } from './middleware/json-body.js';
export { securityHeaders, type SecurityHeadersOptions } from './middleware/security-headers.js';
export { handleClientErrors } from './middleware/client-error.js';
export {
  errorHandler,
  notFoundHandler,
  type ErrorHandlerOptions,
  type ProblemDetails,
} from './middleware/error-handler.js';
export { healthHandler, type HealthHandlerOptions, type HealthSource } from './middleware/health.js';
export { createMetrics, type Metrics, type MetricsOptions } from './middleware/metrics.js';
export { gracefulShutdown, type ShutdownOptions, type ShutdownResult } from './middleware/shutdown.js';

// Authentication, limits and quotas.
export { createAuth, type Auth, type CreateAuthOptions } from './middleware/auth-setup.js';
export { authenticate, type AuthenticateOptions } from './middleware/authenticate.js';
export {
  apiKeyStrategy,
  jwtStrategy,
  proxyStrategy,
  type AuthStrategy,
  type AuthResult,
  type ApiKeyStrategyOptions,
  type JwtStrategyOptions,
  type ProxyStrategyOptions,
  type ProxyHeaders,
} from './middleware/auth-strategies.js';
export { authRouter, type AuthRouterOptions } from './middleware/auth-router.js';
export type { SecondFactorOptions, PendingLogin } from './middleware/second-factor.js';
export { createTotp, type Totp, type TotpOptions, type TotpEnrolment } from './src/auth/totp.js';
export { migrateSecondFactorKeys, type SecondFactorProblem } from './src/auth/totp-rotation.js';
export {
  principalAdminRouter,
  bootstrapAdmin,
  type PrincipalAdminRouterOptions,
  type BootstrapAdminOptions,
} from './middleware/principal-admin-router.js';
export {
  requirePermittedEndpoint,
  requireScope,
  type PermittedEndpointOptions,
} from './middleware/authorize-endpoint.js';
export { rateLimit, clientKey, addressKey, type RateLimitOptions } from './middleware/rate-limit.js';
export { failureLimit, type FailureLimit, type FailureLimitOptions } from './middleware/failure-limit.js';
export { quota, type QuotaOptions } from './middleware/quota.js';
export { generateApiKey, ApiKeyHasher, type GeneratedApiKey, type ApiKeyHasherOptions } from './src/auth/api-keys.js';
export {
  createJwtVerifier,
  createJwtSigner,
  type JwtAlgorithm,
  type JwtClaims,
  type JwtKeyOptions,
  type JwtVerifierOptions,
  type JwtVerifier,
  type JwtSignerOptions,
  type JwtSigner,
} from './src/auth/jwt.js';
export { createProxyTrust, type ProxyTrust } from './src/auth/proxy-trust.js';
export { mergePermissions, combineAlternatives, isEndpointPermitted } from './src/auth/permissions.js';
export { scryptHash } from './src/auth/secrets.js';
export { clientAddress } from './src/ip.js';
export type { Principal, EffectivePermissions, PermittedEndpoint } from './src/auth/principal.js';

// Authorization (ABAC).
export { authorize, subjectOf, type AuthorizeOptions, type DecisionMaker } from './middleware/authorize.js';
export { policyAdminRouter, type PolicyAdminRouterOptions } from './middleware/policy-admin-router.js';
export { Guard, type GuardOptions, type PolicySource, type Explanation } from './src/abac/guard.js';
export { PolicySet } from './src/abac/policy-set.js';
export { PolicyMirror, type PolicyMirrorOptions } from './src/abac/mirror.js';
export { DecisionCache, type DecisionCacheOptions } from './src/abac/decision-cache.js';
export { policy, PolicyValidationError, type Policy, type PolicyDefinition, type Effect } from './src/abac/policy.js';
export type { Inquiry } from './src/abac/inquiry.js';
export type { Decision } from './src/abac/decision.js';
export * as rules from './src/abac/rules/index.js';
export {
  defineRule,
  createRuleRegistry,
  RuleArgumentError,
  UnfitValueError,
  type Rule,
  type RuleDefinition,
  type RuleJson,
  type RuleRegistry,
} from './src/abac/rules/index.js';
export {
  policyFromJSON,
  policyToJSON,
  parsePolicies,
  stringifyPolicies,
  PolicyFileError,
  type PolicyJson,
} from './src/abac/policy-json.js';

// Records: the CRUD router, the filter language, masking and field encryption.
export { crudRouter, type CrudRouter, type CrudRouterOptions, type FieldValidator } from './middleware/crud-router.js';
export type { PrivacyOptions, PrivacyMembershipOptions } from './middleware/crud/privacy.js';
export { privacyRoles, type PrivacyRolesOptions } from './middleware/privacy-roles.js';
export { impliedRoles, PRIVACY_LEVELS, type Membership, type PrivacyLevel } from './src/auth/privacy.js';
export { filterQuery, type FilterQueryOptions } from './middleware/filter.js';
export { maskResponse, type MaskResponseOptions, type UnmaskCheck } from './middleware/mask-response.js';
export {
  createQueryCompiler,
  compileListQuery,
  type QueryCompiler,
  type QueryCompilerOptions,
  type CompiledListQuery,
} from './src/filter/compile.js';
export type { SchemaInput, FieldSpec, FieldType } from './src/filter/schema.js';
export type { FilterNode, SortKey } from './src/filter/ast.js';
export { toMongoFilter, type MongoFilter } from './src/filter/mongo.js';
export { toPredicate, type Predicate } from './src/filter/matcher.js';
export { createMasker, type MaskerOptions, type PiiMasker } from './src/pii/engine.js';
export type { Masker, UnmaskGrant } from './src/pii/masker.js';
export type { RecognizerSpec } from './src/pii/recognizers.js';
export { maskerFromConfig, fieldEncryptionFromConfig, unmaskGroupsGrant } from './src/pii/from-config.js';
export { maskingLogger, pinoMaskingOptions } from './src/pii/logging.js';
export { createKeyRing, parseKeyRing, type KeyRing } from './src/pii/key-ring.js';
export { DecryptionError } from './src/pii/field-cipher.js';
export {
  createFieldEncryption,
  type FieldEncryption,
  type FieldEncryptionOptions,
  type EncryptedFieldSpec,
} from './src/pii/field-encryption.js';
export { migrateKeys, type RotationSource, type MigrateOptions, type MigrationResult } from './src/pii/key-rotation.js';
export { EncryptedRecordStore, type EncryptedRecordStoreOptions } from './stores/encrypted-records.js';
export { ResidentRecordStore, type ResidentRecordStoreOptions } from './stores/resident-records.js';
export type { ResidentRecords, ResidencyQueryOptions, MoveOptions } from './src/contracts/residency.js';
export { EncryptedAttachmentStore, type EncryptedAttachmentStoreOptions } from './stores/encrypted-attachments.js';

// OpenAPI: every prebuilt router describes its routes (docs/openapi.md).
export { openApiDocument, openApiRoute, type OpenApiOptions } from './middleware/openapi/document.js';
export {
  describeRouter,
  describeGuard,
  type DescribedRouter,
  type Describer,
  type DescribeContext,
  type RouterDescription,
} from './middleware/openapi/describe.js';
export type * from './src/openapi/types.js';

// Audit.
export { auditTrail, auditAs, type AuditTrailOptions, type AuditSettings } from './middleware/audit-trail.js';
export { auditRouter, type AuditRouterOptions } from './middleware/audit-router.js';
export { createAuditPipeline, type AuditPipeline, type AuditPipelineOptions } from './src/audit/pipeline.js';
export { auditPipelineFromConfig, type AuditFromConfigOptions } from './src/audit/from-config.js';
export { auditContext, type AuditContext } from './src/audit/context.js';
export { defaultEnricher, type Enricher } from './src/audit/enrichers.js';
export { createHistory, type HistoryEntry, type HistoryFunction } from './src/audit/history.js';
export { verifyEvents, type VerifyOptions, type VerifyReport } from './src/audit/verify.js';
export { parsePinFile } from './src/audit/pin.js';
export { FileReliabilityQueue, type FileReliabilityQueueOptions } from './src/audit/file-queue.js';
export type { AuditEvent, AuditEventInput } from './src/audit/event.js';

// Configuration, store contracts, logging and errors. (`createStores(config)` is `portcullis/stores`.)
export { loadConfig, describeConfig, type Config, type Env } from './src/config/load.js';
export { parseTrustProxy, type TrustProxy } from './src/config/network.js';
export type * from './src/contracts/index.js';
export { createLogger, type AppLogger, type AppLogFn, type Logger, type LoggerOptions } from './src/logger.js';
export type { Clock } from './src/clock.js';
export type { RequestContext } from './src/context.js';
export {
  PortcullisError,
  ValidationError,
  AuthenticationError,
  ForbiddenError,
  NotFoundError,
  ConflictError,
  PreconditionFailedError,
  PayloadTooLargeError,
  RateLimitedError,
  StoreUnavailableError,
  UnsupportedMediaTypeError,
  ConfigError,
  ConfigErrors,
  type FieldProblem,
} from './src/errors.js';
export { version } from './src/version.js';

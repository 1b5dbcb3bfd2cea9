// The package root: the framework-free core, the stores and every Express middleware and router.
export * from '../src/index.js';
export * from '../stores/index.js';
export { contextOf } from './context.js';
export { requestContext, type RequestContextOptions } from './request-context.js';
export { errorHandler, notFound, type ErrorHandlerOptions, type ProblemDetails } from './error-handler.js';
export { healthHandler, type HealthHandlerOptions, type HealthSource } from './health.js';
export { createMetrics, type Metrics, type MetricsOptions } from './metrics.js';
export { auditTrail, auditAs, type AuditTrailOptions, type AuditSettings } from './audit-trail.js';
export { authenticate, anonymousPrincipal, type AuthenticateOptions } from './authenticate.js';
export {
  apiKeyStrategy,
  jwtStrategy,
  proxyStrategy,
  invalidCredentials,
  type AuthStrategy,
  type AuthResult,
  type ApiKeyStrategyOptions,
  type JwtStrategyOptions,
  type ProxyStrategyOptions,
  type ProxyHeaders,
} from './auth-strategies.js';
export {
  requirePermittedEndpoint,
  requireScope,
  scopeDenial,
  type PermittedEndpointOptions,
} from './authorize-endpoint.js';
export { authRouter, type AuthRouterOptions } from './auth-router.js';
export {
  principalAdminRouter,
  bootstrapAdmin,
  BOOTSTRAP_ADMIN_ATTRIBUTES,
  type PrincipalAdminRouterOptions,
  type BootstrapAdminOptions,
} from './principal-admin-router.js';
export { rateLimit, clientKey, addressKey, type RateLimitOptions } from './rate-limit.js';
export { failureLimit, type FailureLimit, type FailureLimitOptions } from './failure-limit.js';
export { quota, type QuotaOptions } from './quota.js';
export { securityHeaders, type SecurityHeadersOptions } from './security-headers.js';
export { handleClientErrors } from './client-error.js';
export { gracefulShutdown, type ShutdownOptions, type ShutdownResult } from './shutdown.js';
export { jsonBody, type JsonBodyOptions } from './json-body.js';
export { createAuth, type Auth, type CreateAuthOptions } from './auth-setup.js';
export { auditRouter, type AuditRouterOptions } from './audit-router.js';
export { authorize, subjectOf, type AuthorizeOptions, type DecisionMaker } from './authorize.js';
export { crudRouter, type CrudRouter, type CrudRouterOptions, type FieldValidator } from './crud-router.js';
export { filterQuery, type FilterQueryOptions } from './filter.js';
export { maskResponse, type MaskResponseOptions, type UnmaskCheck } from './mask-response.js';
export { policyAdminRouter, type PolicyAdminRouterOptions } from './policy-admin-router.js';
export { openApiDocument, openApiRoute, type OpenApiOptions } from './openapi/document.js';
export {
  describeRouter,
  describeGuard,
  type DescribedRouter,
  type Describer,
  type DescribeContext,
  type RouterDescription,
} from './openapi/describe.js';
export type * from '../src/openapi/types.js';

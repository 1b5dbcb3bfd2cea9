// The package root: the framework-free core, the stores and every Express middleware and router.
export * from '../src/index.js';
export * from '../stores/index.js';
export { contextOf } from './context.js';
export { requestContext, type RequestContextOptions } from './request-context.js';
export { errorHandler, notFound, type ErrorHandlerOptions, type ProblemDetails } from './error-handler.js';
export { healthHandler, type HealthHandlerOptions, type HealthSource } from './health.js';
export { createMetrics, type Metrics, type MetricsOptions } from './metrics.js';
export { auditTrail, auditAs, type AuditTrailOptions, type AuditSettings } from './audit-trail.js';

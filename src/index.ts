// The framework-free core: configuration, errors, logging, the request-context type and store contracts.
export * from './config/index.js';
export * from './errors.js';
export { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js';
export * from './logger.js';
export * from './clock.js';
export type { RequestContext, CoreRequestContext } from './context.js';
export type * from './contracts/index.js';
export { version } from './version.js';
export * from './cli/index.js';
export type * from './auth/principal.js';
export type * from './abac/decision.js';
export type * from './pii/masker.js';
export type * from './audit/event-ref.js';
export type * from './pii/blind-index.js';
export * from './auth/index.js';
export * from './filter/index.js';
export { VERSION_FIELD, DELETED_FIELD, DECRYPTION_ERROR_FIELD } from './contracts/records.js';
export * from './audit/index.js';
export * from './abac/index.js';
export * from './pii/index.js';
export {
  compileRegex,
  PatternError,
  MAX_PATTERN_LENGTH,
  MAX_PROGRAM_SIZE,
  REGEX_WORK_BUDGET,
  RegexBudgetError,
  provablyLinear,
  type LinearRegex,
  type PatternMatch,
  type CompileOptions,
  type PatternErrorCode,
} from './regex.js';
export { clientAddress } from './ip.js';

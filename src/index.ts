// The framework-free core: configuration, errors, logging, the request-context type and store contracts.
export * from './config/index.js';
export * from './errors.js';
export * from './logger.js';
export * from './clock.js';
export type { RequestContext, CoreRequestContext } from './context.js';
export type * from './contracts/index.js';
export { version } from './version.js';
export * from './cli/index.js';

// Configuration from environment variables: the schema, the loader and store-kind selection.
export { loadConfig, backendFor, describeConfig, redisConfigured, type Config, type Env } from './load.js';
export { configSchema, type ConfigSchema } from './schema/index.js';
export { storeKinds, resolveBackend, type Backend, type StoreKind, type StoreKindSpec } from './store-kinds.js';
export * from './variables.js';
export { parseTrustProxy, type TrustProxy } from './network.js';

// Which backends each store kind supports, and which one `auto` picks from the configured servers.

export type Backend = 'memory' | 'mongodb' | 'redis';

export interface StoreKindSpec {
  /** The environment variable that selects the backend. */
  variable: string;
  /** Backends that implement this kind. */
  backends: readonly Backend[];
  /** The order `auto` tries: the first whose server is configured wins; memory is the last resort. */
  autoPreference: readonly Backend[];
  description: string;
}

export const storeKinds = {
  policies: {
    variable: 'POLICIES_BACKEND',
    backends: ['memory', 'mongodb', 'redis'],
    autoPreference: ['mongodb', 'redis'],
    description: 'Where ABAC policies are stored.',
  },
  principals: {
    variable: 'PRINCIPALS_BACKEND',
    backends: ['memory', 'mongodb'],
    autoPreference: ['mongodb'],
    description: 'Where users, groups and API keys are stored (Redis, when configured, is their shared cache).',
  },
  sessions: {
    variable: 'SESSIONS_BACKEND',
    backends: ['memory', 'redis', 'mongodb'],
    autoPreference: ['redis', 'mongodb'],
    description: 'Where login sessions are kept.',
  },
  audit: {
    variable: 'AUDIT_BACKEND',
    backends: ['memory', 'mongodb', 'redis'],
    autoPreference: ['mongodb', 'redis'],
    description: 'Where audit events are stored.',
  },
  rateLimit: {
    variable: 'RATE_LIMIT_BACKEND',
    backends: ['memory', 'redis'],
    autoPreference: ['redis'],
    description: 'Where rate-limit and quota counters live.',
  },
  records: {
    variable: 'RECORDS_BACKEND',
    backends: ['memory', 'mongodb'],
    autoPreference: ['mongodb'],
    description: 'Where the records behind the CRUD routers live.',
  },
} as const satisfies Record<string, StoreKindSpec>;

export type StoreKind = keyof typeof storeKinds;

/** Resolves `auto` (or an explicit choice) to a backend, given which servers are configured. */
export function resolveBackend(
  kind: StoreKind,
  choice: string,
  servers: { mongodb: boolean; redis: boolean },
): Backend {
  if (choice !== 'auto') return choice as Backend;
  const preference: readonly Backend[] = storeKinds[kind].autoPreference;
  for (const backend of preference) {
    if (backend !== 'memory' && servers[backend]) return backend;
  }
  return 'memory';
}

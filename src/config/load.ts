// Reads, validates and freezes the configuration from environment variables, reporting every problem at once.
import { ConfigError, ConfigErrors, didYouMean } from '../errors.js';
import { configSchema, type ConfigSchema } from './schema/index.js';
import { resolveBackend, storeKinds, type Backend, type StoreKind } from './store-kinds.js';
import type { ValueOf, VariableSpec } from './variables.js';

type Optional<S> = S extends { default: unknown } ? never : S extends { required: true } ? never : undefined;

/** The validated configuration: one typed property per variable of the schema. */
export type Config = { readonly [K in keyof ConfigSchema]: ValueOf<ConfigSchema[K]> | Optional<ConfigSchema[K]> };

export type Env = Record<string, string | undefined>;

/**
 * Validates every variable of the schema. Throws `ConfigErrors` listing each problem on its own line,
 * naming the variable and never echoing a secret value.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: ConfigError[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(configSchema) as [string, VariableSpec<unknown>][]) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') {
      if (spec.required) problems.push(new ConfigError(name, 'is required', { code: 'config.missing' }));
      values[name] = spec.default;
      continue;
    }
    try {
      values[name] = spec.parse(raw);
    } catch (error) {
      problems.push(new ConfigError(name, (error as Error).message, { code: 'config.invalid' }));
    }
  }
  problems.push(
    ...unknownBackendVariables(env),
    ...backendServerProblems(values),
    ...redisDeploymentProblems(values, env),
    ...dependencyProblems(values),
  );
  if (problems.length > 0) throw new ConfigErrors(problems);
  return Object.freeze(values) as Config;
}

const knownBackendVariables = Object.values(storeKinds).map((kind) => kind.variable as string);

/** A misspelt `*_BACKEND` variable would silently fall back to memory; flag it. */
function unknownBackendVariables(env: Env): ConfigError[] {
  return Object.keys(env)
    .filter((name) => name.endsWith('_BACKEND') && !knownBackendVariables.includes(name))
    .map(
      (name) =>
        new ConfigError(name, `is not a Portcullis variable (known: ${knownBackendVariables.join(', ')})`, {
          code: 'config.unknown',
          hint: didYouMean(name, knownBackendVariables),
        }),
    );
}

function backendServerProblems(values: Record<string, unknown>): ConfigError[] {
  const problems: ConfigError[] = [];
  for (const kind of Object.values(storeKinds)) {
    const choice = values[kind.variable];
    if (choice === 'mongodb' && !values.MONGODB_URI) {
      problems.push(
        new ConfigError(kind.variable, 'is mongodb but MONGODB_URI is not set', { code: 'config.dependency' }),
      );
    }
    if (choice === 'redis' && !redisConfigured(values)) {
      problems.push(
        new ConfigError(kind.variable, 'is redis but none of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS is set', {
          code: 'config.dependency',
        }),
      );
    }
  }
  return problems;
}

// One Redis deployment at a time, and the Sentinel settings only with the sentinels.
function redisDeploymentProblems(values: Record<string, unknown>, env: Env): ConfigError[] {
  const problems: ConfigError[] = [];
  const cluster = listed(values.REDIS_CLUSTER_NODES);
  const sentinels = listed(values.REDIS_SENTINELS);
  if (values.REDIS_URL && cluster) {
    problems.push(
      new ConfigError('REDIS_CLUSTER_NODES', 'cannot be set together with REDIS_URL: pick one Redis deployment', {
        code: 'config.conflict',
      }),
    );
  }
  if (sentinels && (values.REDIS_URL || cluster)) {
    const other = values.REDIS_URL ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES';
    problems.push(
      new ConfigError('REDIS_SENTINELS', `cannot be set together with ${other}: pick one Redis deployment`, {
        code: 'config.conflict',
      }),
    );
  }
  if (sentinels && !values.REDIS_SENTINEL_NAME) {
    problems.push(
      new ConfigError(
        'REDIS_SENTINEL_NAME',
        'is required with REDIS_SENTINELS: the master group the sentinels monitor',
        {
          code: 'config.dependency',
        },
      ),
    );
  }
  // An invalid REDIS_SENTINELS is reported on its own; its companions are not orphans then.
  if (!sentinels && !env.REDIS_SENTINELS?.trim()) {
    for (const name of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_SENTINEL_MASTER_PASSWORD']) {
      if (values[name] !== undefined) {
        problems.push(new ConfigError(name, 'is set but REDIS_SENTINELS is not', { code: 'config.dependency' }));
      }
    }
  }
  return problems;
}

function listed(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

/**
 * Whether a Redis server is configured: one server (`REDIS_URL`), a cluster (`REDIS_CLUSTER_NODES`) or a
 * Sentinel-managed master (`REDIS_SENTINELS`).
 */
export function redisConfigured(config: {
  REDIS_URL?: unknown;
  REDIS_CLUSTER_NODES?: unknown;
  REDIS_SENTINELS?: unknown;
}): boolean {
  return Boolean(config.REDIS_URL) || listed(config.REDIS_CLUSTER_NODES) || listed(config.REDIS_SENTINELS);
}

function dependencyProblems(values: Record<string, unknown>): ConfigError[] {
  const problems: ConfigError[] = [];
  if (values.PII_MASK_STRATEGY === 'pseudonym' && !values.PSEUDONYM_KEY) {
    problems.push(
      new ConfigError('PSEUDONYM_KEY', 'is required when PII_MASK_STRATEGY is pseudonym', {
        code: 'config.dependency',
      }),
    );
  }
  // createAuditPipeline() refuses this too, but names its options; the operator sets variables.
  if (values.AUDIT_DIGEST_PIN_FILE !== undefined && values.AUDIT_SIGNING_KEY === undefined) {
    problems.push(
      new ConfigError('AUDIT_DIGEST_PIN_FILE', 'pins signed digests, so it needs AUDIT_SIGNING_KEY', {
        code: 'config.dependency',
      }),
    );
  }
  // Node refuses to create a server whose headers may take longer than the whole request.
  if ((values.HEADERS_TIMEOUT as number) > (values.REQUEST_TIMEOUT as number)) {
    problems.push(
      new ConfigError(
        'HEADERS_TIMEOUT',
        `must not be longer than REQUEST_TIMEOUT (${String(values.HEADERS_TIMEOUT)} > ${String(values.REQUEST_TIMEOUT)} ms)`,
        { code: 'config.dependency' },
      ),
    );
  }
  const perClient = values.MAX_CONNECTIONS_PER_CLIENT as number | undefined;
  if (perClient !== undefined && perClient > (values.MAX_CONNECTIONS as number)) {
    problems.push(
      new ConfigError(
        'MAX_CONNECTIONS_PER_CLIENT',
        `must not be more than MAX_CONNECTIONS (${String(perClient)} > ${String(values.MAX_CONNECTIONS)})`,
        { code: 'config.dependency' },
      ),
    );
  }
  return problems;
}

/** The backend chosen for a store kind, with `auto` resolved. */
export function backendFor(config: Config, kind: StoreKind): Backend {
  const variable = storeKinds[kind].variable as keyof Config;
  return resolveBackend(kind, String(config[variable]), {
    mongodb: Boolean(config.MONGODB_URI),
    redis: redisConfigured(config),
  });
}

/** The configuration with secrets replaced, safe to log. */
export function describeConfig(config: Config): Record<string, unknown> {
  const described: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(configSchema) as [string, VariableSpec<unknown>][]) {
    const value = (config as Record<string, unknown>)[name];
    described[name] = spec.secret && value !== undefined ? '[secret]' : value;
  }
  return described;
}

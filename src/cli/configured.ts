// What the CLI commands that reach a store share: the configuration read from the environment, its problems
// shown as a usage error (exit 2), and the stores built the way an application builds them.
import { loadConfig, type Config } from '../config/index.js';
import { ConfigError, ConfigErrors } from '../errors.js';
import { UsageError } from './command.js';

/** The configuration of `env`; every problem becomes one usage error naming the variables. */
export function cliConfig(env: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigErrors) throw new UsageError(error.problems.map((p) => p.message).join('; '));
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The stores `config` names. The CLI is the top layer, like the demo app: a driver is loaded only now, when
 * a command needs it, so `keys generate` works without mongoose.
 */
export async function openConfiguredStores(config: Config) {
  const { createStores } = await import('../../stores/create-stores.js');
  return createStores(config);
}

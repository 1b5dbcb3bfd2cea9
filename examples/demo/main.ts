// Starts the demo: validates the configuration, connects the stores, seeds data, serves, shuts down gracefully.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import {
  ConfigErrors,
  ConfigError,
  describeConfig,
  gracefulShutdown,
  handleClientErrors,
  loadConfig,
  type Config,
} from 'portcullis';
import { createStores, type Stores } from 'portcullis/stores';
import { assembleDemo, createDemoLogger } from './assemble.js';
import { buildDemoApp } from './app.js';

function configOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigErrors) {
      for (const problem of error.problems) process.stderr.write(`config error: ${problem.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const config = configOrExit();
const logger = createDemoLogger(config);
logger.info({ config: describeConfig(config) }, 'starting the Portcullis demo');

let stores: Stores;
try {
  stores = await createStores(config, { logger });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`config error: ${error.message}\n`);
  process.exit(1);
}

let parts: Awaited<ReturnType<typeof assembleDemo>>;
try {
  parts = await assembleDemo({ config, stores, logger, randomKey: () => randomBytes(32).toString('base64') });
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`config error: ${error.message}\n`);
    await stores.close();
    process.exit(1);
  }
  throw error;
}

const app = buildDemoApp(parts);
const server = handleClientErrors(createServer(app));

// A host that does not resolve or is not this machine's, or a port in use, is named on one line.
server.once('error', (error: NodeJS.ErrnoException) => {
  const variable = error.code === 'EADDRINUSE' || error.code === 'EACCES' ? 'PORT' : 'HOST';
  process.stderr.write(`config error: ${variable}: cannot listen on ${config.HOST}:${config.PORT} (${error.code})\n`);
  void parts
    .close()
    .then(() => stores.close())
    .finally(() => process.exit(1));
});
server.listen(config.PORT, config.HOST, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const base = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  logger.info({ url: base, backends: stores.backends }, 'Portcullis demo listening');
  process.stdout.write(
    [
      `Portcullis demo listening on ${base}`,
      `Try: curl ${base}/health`,
      `Log in as the analyst: curl -s -X POST ${base}/auth/login -H 'Content-Type: application/json' -d '{"username":"ana","password":"analyst-demo-password"}'`,
      config.ADMIN_API_KEY
        ? 'The administrator authenticates with the X-API-Key header set to ADMIN_API_KEY.'
        : 'Set ADMIN_API_KEY to get an administrator key (X-API-Key header).',
      '',
    ].join('\n'),
  );
});

// Audit events of answered requests are flushed before the stores close, even when a client holds its
// connection past the drain deadline: none is lost on SIGTERM.
const shutdown = gracefulShutdown(server, {
  timeoutMs: config.SHUTDOWN_TIMEOUT,
  logger,
  close: async () => {
    await parts.close();
    await stores.close();
  },
});
async function stop(signal: string): Promise<void> {
  logger.info({ signal }, 'shutting down');
  const { closed } = await shutdown();
  process.exit(closed ? 0 : 1);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

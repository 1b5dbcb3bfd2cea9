// Starts the demo: validates the configuration, connects the stores, seeds data, serves, shuts down gracefully.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import {
  ConfigErrors,
  ConfigError,
  createLogger,
  createStores,
  describeConfig,
  handleClientErrors,
  loadConfig,
  type Config,
  type Stores,
} from 'portcullis';
import { assembleDemo } from './assemble.js';
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
const logger = createLogger({ level: config.LOG_LEVEL });
logger.info({ config: describeConfig(config) }, 'starting the Portcullis demo');

let stores: Stores;
try {
  stores = await createStores(config, { logger });
} catch (error) {
  process.stderr.write(`cannot connect the stores: ${(error as Error).name}\n`);
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

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const timer = setTimeout(() => {
    logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT }, 'shutdown timed out');
    process.exit(1);
  }, config.SHUTDOWN_TIMEOUT);
  timer.unref();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  // Audit events of the last requests are flushed before the stores close: none is lost on SIGTERM.
  await parts.close();
  await stores.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

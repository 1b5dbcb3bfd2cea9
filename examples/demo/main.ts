// Starts the demo: validates the configuration, connects the stores, serves, and shuts down gracefully.
import { createServer } from 'node:http';
import {
  ConfigErrors,
  createLogger,
  createStores,
  describeConfig,
  loadConfig,
  type Config,
  type Stores,
} from 'portcullis';
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
const app = buildDemoApp({ config, stores, logger });
const server = createServer(app);

server.listen(config.PORT, config.HOST, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const base = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  logger.info({ url: base, backends: stores.backends }, 'Portcullis demo listening');
  process.stdout.write(`Portcullis demo listening on ${base}\nTry: curl ${base}/health\n`);
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
  await stores.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

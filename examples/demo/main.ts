// Starts the demo: validates the configuration, connects the stores, seeds data, serves, shuts down gracefully.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ConfigErrors, ConfigError, describeConfig, loadConfig, type Config } from 'portcullis';
import { assembleDemo, createDemoLogger, type DemoParts } from './assemble.js';
import { buildDemoApp } from './app.js';

/** Each problem on one line naming the variable, then exit 1; anything else is a bug and throws. */
async function failOnConfigError<T>(step: () => Promise<T>, cleanUp?: () => Promise<void>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof ConfigErrors)) throw error;
    const problems = error instanceof ConfigErrors ? error.problems : [error];
    for (const problem of problems) process.stderr.write(`config error: ${problem.message}\n`);
    await cleanUp?.();
    process.exit(1);
  }
}

const config: Config = await failOnConfigError(async () => loadConfig(process.env));
const logger = createDemoLogger(config);
logger.info({ config: describeConfig(config) }, 'starting the Portcullis demo');

const parts: DemoParts = await failOnConfigError(() =>
  assembleDemo({ config, logger, randomKey: () => randomBytes(32).toString('base64') }),
);
// Audit events of answered requests are flushed before the stores close on SIGTERM / SIGINT, even when a
// client holds its connection past the drain deadline: none is lost.
const server = await failOnConfigError(
  () => parts.portcullis.listen(buildDemoApp(parts)),
  () => parts.close(),
);

const { port } = server.address() as AddressInfo;
const base = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
logger.info({ url: base, backends: parts.portcullis.stores.backends }, 'Portcullis demo listening');
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

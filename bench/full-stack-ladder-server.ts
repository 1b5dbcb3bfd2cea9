// The server of bench/full-stack-ladder.ts: the demo's stack (createPortcullis's `app()` in its order) with
// only the ingredients named in LADDER (comma-separated) mounted, serving `GET /accounts` either through the
// demo's CRUD router (`crud`) or through the bare server's handler (bench/full-stack-bare-server.ts).
import express from 'express';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { auditContext, auditTrail, jsonBody, loadConfig, requestContext, securityHeaders, version } from 'portcullis';
import { MemoryRecordStore } from 'portcullis/memory';
import { accountFields, seedAccounts } from '../examples/demo/accounts.js';
import { assembleDemo, createDemoLogger } from '../examples/demo/assemble.js';
import { healthHandler } from '../middleware/health.js';
import { accountValidators } from '../examples/demo/accounts.js';
import { bareListHandler, EXTRA_INGREDIENTS, INGREDIENTS } from './full-stack-servers.js';

const wanted = new Set((process.env.LADDER ?? '').split(',').filter(Boolean));
for (const name of wanted)
  if (![...INGREDIENTS, ...EXTRA_INGREDIENTS].includes(name)) throw new Error(`unknown ingredient ${name}`);

const config = loadConfig(process.env);
const logger = createDemoLogger(config);
const parts = await assembleDemo({ config, logger, randomKey: () => randomBytes(32).toString('base64') });
const { portcullis } = parts;
const { metrics, auth, masker, pipeline, stores } = portcullis;

const app = express();
app.disable('x-powered-by');
app.set('trust proxy', config.TRUST_PROXY);
app.set('query parser', 'simple');
if (wanted.has('headers')) app.use(securityHeaders());
if (wanted.has('metrics') && metrics) app.use(metrics.middleware);
if (wanted.has('context')) app.use(requestContext({ masker }));
if (wanted.has('json')) app.use(jsonBody({ limit: config.BODY_LIMIT, maxDepth: config.BODY_MAX_DEPTH }));
// The audit trail's AsyncLocalStorage scope alone (`scope`), without its events.
if (wanted.has('scope')) app.use((_req, _res, next) => auditContext.open({}, () => next()));
if (wanted.has('audit')) app.use(auditTrail({ pipeline, logger, durability: config.AUDIT_DURABILITY }));
if (wanted.has('mounts')) {
  app.get('/health', healthHandler({ stores, version }));
  if (metrics) app.get('/metrics', metrics.handler);
}
// The login route is always there (with a JSON body parser): the bench logs in through it.
if (!wanted.has('json')) app.use('/auth', jsonBody());
app.use('/auth', auth.authRouter());
if (wanted.has('auth')) app.use(auth.authenticate());
if (wanted.has('ratelimit')) app.use(auth.rateLimit());
if (wanted.has('crud')) {
  const accounts = portcullis.crudRouter({
    resource: 'accounts',
    store: parts.accounts,
    validators: accountValidators,
    masker: parts.accountsMasker,
  });
  app.use('/accounts', accounts);
} else {
  const store = new MemoryRecordStore({ schema: accountFields, idPrefix: 'acc_' });
  for (const { id, ...fields } of seedAccounts())
    await store.insert(id, { ...fields, createdAt: new Date(), updatedAt: new Date() });
  app.get('/accounts', bareListHandler(store));
}
portcullis.finish(app);

const server = createServer(app).listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));

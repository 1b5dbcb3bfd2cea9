// What the fragments in README.md and docs/*.md take as given. A fragment is a ```ts block preceded by
// `<!-- prelude: app, stores -->`: it runs as if it began with `import { app, stores } from './prelude.js'`, the
// names being built as the rest of its page shows. test/unit/docs-examples.test.ts type-checks every block so.
import type { Express, RequestHandler, Router } from 'express';
import type {
  AuditPipeline,
  Auth,
  Config,
  Guard,
  Logger,
  PiiMasker,
  Policy,
  RecordStore,
  SchemaInput,
} from 'portcullis';
import type { Stores } from 'portcullis/stores';

/** `loadConfig()`. */
export declare const config: Config;
/** `await createStores(config)`. */
export declare const stores: Stores;
/** Your Express app, with `requestContext()` and the JSON body parser in front. */
export declare const app: Express;
/** One of your Express routers. */
export declare const router: Router;
/** One of your route handlers. */
export declare const handler: RequestHandler;
/** A logger from `createLogger()`. */
export declare const logger: Logger;
/** `createAuth({ config, stores })`. */
export declare const auth: Auth;
/** Policies, e.g. from `parsePolicies(text)`. */
export declare const policies: Policy[];
/** A `Guard` deciding on those policies. */
export declare const guard: Guard;
/** `createMasker(...)` or `maskerFromConfig(config)`. */
export declare const masker: PiiMasker;
/** `await createAuditPipeline(...)` or `await auditPipelineFromConfig(config, stores)`. */
export declare const pipeline: AuditPipeline;
/** The records behind a CRUD router, e.g. `new MemoryRecordStore({ schema })`. */
export declare const store: RecordStore;
/** The accounts' field declarations of docs/crud.md. */
export declare const accountFields: SchemaInput;

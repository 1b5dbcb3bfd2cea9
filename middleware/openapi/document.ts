// openApiDocument / openApiRoute: the OpenAPI 3.1 document of the mounted routers, for one caller.
import type { Request, RequestHandler, Response } from 'express';
import { hash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { LRUCache } from 'lru-cache';
import { ConfigError, didYouMean } from '../../src/errors.js';
import {
  AUTHENTICATION_CODES,
  mergeCodes,
  problemResponses,
  problemSchema,
  PROBLEM_SCHEMA_NAME,
  type ProblemCodes,
} from '../../src/openapi/problems.js';
import type {
  HttpMethod,
  OpenApiDocument,
  OpenApiInfo,
  OpenApiOperation,
  OpenApiPathItem,
  OpenApiSecurityScheme,
} from '../../src/openapi/types.js';
import type { AuthStrategy } from '../auth-strategies.js';
import { describerOf, isGuard, type Describer, type RouterDescription } from './describe.js';

export interface OpenApiOptions {
  /** The document's `info`: `title` and `version` at least. */
  info: OpenApiInfo;
  /**
   * What is mounted at each path, as given to `app.use`: `{ '/accounts': accounts, '/admin': [adminOnly,
   * principalAdmin, policyAdmin] }`. Routers must describe themselves (every prebuilt Portcullis router
   * does); guards such as `authorize()` add the errors they answer to the routes after them; other
   * middleware is passed over.
   */
  mounts: Readonly<Record<string, object | readonly object[]>>;
  /**
   * The authentication strategies in front of the routers (`auth.strategies`): their security schemes, and
   * the 401 / 429 answers of `authenticate()` on every route that needs a credential. Default none: the
   * routes are described as open.
   */
  security?: readonly AuthStrategy[];
  /** The document's `servers`. Default none (relative to where the document is served). */
  servers?: { url: string; description?: string }[];
}

const KNOWN = ['info', 'mounts', 'security', 'servers'];
const METHODS: readonly HttpMethod[] = ['get', 'put', 'post', 'delete', 'patch'];
const MOUNT = /^\/(?:[A-Za-z0-9._~-]+\/?)*$/;

interface Prepared {
  options: OpenApiOptions;
  mounts: { path: string; describers: Describer[] }[];
  schemes: { name: string; scheme: OpenApiSecurityScheme }[];
}

function prepare(options: OpenApiOptions): Prepared {
  if (typeof options !== 'object' || options === null) throw new ConfigError('openapi', 'needs an options object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) {
      const hint = didYouMean(key, KNOWN);
      throw new ConfigError(`openapi.${key}`, 'is not an option', hint ? { hint } : {});
    }
  }
  const info = options.info;
  if (typeof info?.title !== 'string' || typeof info.version !== 'string' || !info.title || !info.version) {
    throw new ConfigError('openapi.info', 'must have a title and a version (strings)');
  }
  if (typeof options.mounts !== 'object' || options.mounts === null) {
    throw new ConfigError('openapi.mounts', "must map mount paths to routers, e.g. { '/accounts': accounts }");
  }
  const mounts: Prepared['mounts'] = [];
  for (const [path, value] of Object.entries(options.mounts)) {
    if (!MOUNT.test(path)) {
      throw new ConfigError(`openapi.mounts.${path}`, 'must be a literal path such as /accounts (no parameters)');
    }
    const handlers: readonly unknown[] = Array.isArray(value) ? value : [value];
    const describers = handlers.map((handler) => describerOf(handler)).filter((d) => d !== undefined);
    if (!handlers.some((handler) => describerOf(handler) && !isGuard(handler))) {
      throw new ConfigError(
        `openapi.mounts.${path}`,
        'holds no router that describes its routes (a prebuilt Portcullis router, or one passed to describeRouter)',
      );
    }
    mounts.push({ path: path.length > 1 ? path.replace(/\/$/, '') : '', describers });
  }
  const schemes: Prepared['schemes'] = [];
  for (const [index, strategy] of (options.security ?? []).entries()) {
    if (typeof strategy?.authenticate !== 'function') {
      throw new ConfigError(`openapi.security[${index}]`, 'must be an authentication strategy (auth.strategies)');
    }
    if (strategy.securityScheme) schemes.push(strategy.securityScheme);
  }
  const prepared = { options, mounts, schemes };
  // Conflicting mounts, operation ids or schemas are configuration mistakes: found now, not per request.
  try {
    build(prepared, undefined);
  } catch (error) {
    if (error instanceof DocumentConflict) throw new ConfigError('openapi.mounts', error.message);
    throw error;
  }
  return prepared;
}

class DocumentConflict extends Error {}

function mergeComponents<T>(target: Record<string, T>, source: Record<string, T> | undefined, kind: string): void {
  for (const [name, value] of Object.entries(source ?? {})) {
    const existing = target[name];
    if (existing && !isDeepStrictEqual(existing, value)) {
      throw new DocumentConflict(`two routers describe the ${kind} ${name} differently (two resources of one name?)`);
    }
    target[name] = value;
  }
}

/** Adds the codes of `extra` to the problem responses of an operation. */
function withCodes(operation: OpenApiOperation, extra: ProblemCodes): OpenApiOperation {
  const own: Record<number, string[]> = {};
  const responses: OpenApiOperation['responses'] = {};
  for (const [status, response] of Object.entries(operation.responses)) {
    const codes = 'x-problem-codes' in response ? response['x-problem-codes'] : undefined;
    if (codes) own[Number(status)] = codes;
    else responses[status] = response;
  }
  return { ...operation, responses: { ...responses, ...problemResponses(mergeCodes(own, extra)) } };
}

/** Each mount's descriptions for this caller, in mount order. */
function describeAll(prepared: Prepared, request: Request | undefined): RouterDescription[][] {
  return prepared.mounts.map(({ describers }) => describers.map((describer) => describer(request ? { request } : {})));
}

function build(prepared: Prepared, request: Request | undefined): OpenApiDocument {
  return assemble(prepared, describeAll(prepared, request));
}

function assemble(prepared: Prepared, descriptions: RouterDescription[][]): OpenApiDocument {
  const { options, mounts, schemes } = prepared;
  const document: OpenApiDocument = {
    openapi: '3.1.0',
    info: { ...options.info },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    ...(options.servers ? { servers: options.servers.map((server) => ({ ...server })) } : {}),
    paths: {},
    components: { schemas: { [PROBLEM_SCHEMA_NAME]: problemSchema } },
  };
  if (schemes.length > 0) {
    document.components.securitySchemes = Object.fromEntries(schemes.map(({ name, scheme }) => [name, scheme]));
    document.security = schemes.map(({ name }) => ({ [name]: [] }));
  }
  const operationIds = new Set<string>();
  const tags = new Map<string, { name: string; description?: string }>();
  mounts.forEach(({ path: mount }, index) => {
    // A guard's errors apply to every route mounted after it on the same path.
    let guarded: ProblemCodes = {};
    for (const description of descriptions[index]!) {
      addDescription(document, mount, description, guarded, schemes.length > 0, operationIds, tags);
      if (description.problems) guarded = mergeCodes(guarded, description.problems);
    }
  });
  if (tags.size > 0) document.tags = [...tags.values()];
  return document;
}

function addDescription(
  document: OpenApiDocument,
  mount: string,
  description: RouterDescription,
  guarded: ProblemCodes,
  secured: boolean,
  operationIds: Set<string>,
  tags: Map<string, { name: string; description?: string }>,
): void {
  for (const [relative, item] of Object.entries(description.paths)) {
    const path = relative === '/' ? mount || '/' : `${mount}${relative}`;
    const target: OpenApiPathItem = (document.paths[path] ??= {});
    if (item.parameters) target.parameters = item.parameters;
    for (const method of METHODS) {
      let operation = item[method];
      if (!operation) continue;
      if (target[method]) throw new DocumentConflict(`${method.toUpperCase()} ${path} is described twice`);
      if (operationIds.has(operation.operationId)) {
        throw new DocumentConflict(`the operation id ${operation.operationId} appears twice (a router mounted twice?)`);
      }
      operationIds.add(operation.operationId);
      const needsCredential = secured && operation.security?.length !== 0;
      operation = withCodes(operation, needsCredential ? mergeCodes(AUTHENTICATION_CODES, guarded) : guarded);
      target[method] = operation;
    }
  }
  mergeComponents(document.components.schemas, description.schemas, 'schema');
  if (description.parameters) {
    mergeComponents((document.components.parameters ??= {}), description.parameters, 'parameter');
  }
  for (const tag of description.tags ?? []) if (!tags.has(tag.name)) tags.set(tag.name, tag);
}

/**
 * The OpenAPI 3.1 document of the mounted routers as `request`'s caller may use them: fields hidden from it
 * are absent, fields it sees masked are neither filters nor sort keys. Without a request: a caller with no
 * excluded field and no unmask grant (for your own tooling; do not serve that one).
 */
export function openApiDocument(options: OpenApiOptions, request?: Request): OpenApiDocument {
  return build(prepare(options), request);
}

/**
 * `app.get('/openapi.json', openApiRoute({...}))`, mounted after `authenticate()`: answers each caller its
 * own document (private to it, revalidated by ETag).
 */
export function openApiRoute(options: OpenApiOptions): RequestHandler {
  const prepared = prepare(options);
  const vary = [
    ...new Set(prepared.schemes.map(({ scheme }) => (scheme.type === 'http' ? 'Authorization' : scheme.name!))),
  ];
  // Describers answer callers who see the resources alike with the same description objects: their
  // identities name the document, which is assembled and serialized once per such group of callers.
  const ids = new WeakMap<RouterDescription, number>();
  let next = 0;
  const idOf = (description: RouterDescription) => {
    let id = ids.get(description);
    if (id === undefined) ids.set(description, (id = next++));
    return id;
  };
  const documents = new LRUCache<string, { body: string; etag: string }>({ max: 64 });
  return function portcullisOpenApi(req: Request, res: Response) {
    const descriptions = describeAll(prepared, req);
    const key = descriptions.map((list) => list.map(idOf).join(',')).join(';');
    let document = documents.get(key);
    if (document === undefined) {
      const body = JSON.stringify(assemble(prepared, descriptions));
      // A strong ETag of the exact bytes, hashed once per document rather than by Express per answer, and
      // sent whatever the app's `etag` setting (createPortcullis's app turns Express's off).
      document = { body, etag: `"${hash('sha256', body, 'base64url')}"` };
      documents.set(key, document);
    }
    // Per caller: no shared cache may keep it; the ETag makes revalidation cheap (Express answers 304).
    res.setHeader('Cache-Control', 'private, no-cache');
    res.setHeader('ETag', document.etag);
    if (vary.length > 0) res.vary(vary.join(', '));
    res.type('application/json').send(document.body);
  };
}

// maskResponse(): masks JSON responses by who asks; grants come from configuration or an injected ABAC check.
import { checkOptions } from '../src/options.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Principal, PrincipalKind } from '../src/auth/principal.js';
import { ConfigError } from '../src/errors.js';
import type { Masker, UnmaskGrant } from '../src/pii/masker.js';
import { contextOf } from './context.js';

/** Decides whether `principal` may do `action` on `resource`; `guard.isAllowed` wrapped, for example. */
export type UnmaskCheck = (principal: Principal, action: string, resource: string) => boolean | Promise<boolean>;

export interface MaskResponseOptions {
  /** The engine (`createMasker`). Required. */
  masker: Masker;
  /** Principals in any of these groups see responses unmasked. Default none. */
  unmaskGroups?: string[];
  /** Fixed grants by group name; a principal gets the union of its groups' grants. Default none. */
  groupGrants?: Record<string, UnmaskGrant>;
  /** Fixed grants by principal kind (`user`, `apiKey`, `oidc`, `anonymous`). Default none. */
  kindGrants?: Partial<Record<PrincipalKind, UnmaskGrant>>;
  /**
   * An ABAC check asked, per request, once for every configured field and label: may the principal
   * perform `action` on `resource(kind, name)`? Allowed ones are unmasked. Default: none (configuration only).
   */
  isAllowed?: UnmaskCheck;
  /** The action given to `isAllowed`. Default `read:pii`. */
  action?: string;
  /** The resource given to `isAllowed`. Default `pii:field:<path>` / `pii:label:<label>`. */
  resource?: (kind: 'field' | 'label', name: string) => string;
  /** Fields and labels asked about. Default: the masker's own `fields` and `labels` (a `createMasker` engine). */
  fields?: string[];
  labels?: string[];
  /**
   * Properties of a list envelope (`{items: [...], nextCursor}` from the CRUD routers, `{data: [...], errors}`)
   * whose elements are records: paths are relative to a record, so they apply to each element. A top-level
   * array is masked element by element too. `false` masks the body as one value. Default `['items', 'data']`.
   */
  listKey?: string | string[] | false;
}

const KNOWN = [
  'masker',
  'unmaskGroups',
  'groupGrants',
  'kindGrants',
  'isAllowed',
  'action',
  'resource',
  'fields',
  'labels',
  'listKey',
];
/** Sees everything: masking is skipped. */
const EVERYTHING = Symbol('everything');
type Resolved = UnmaskGrant | undefined | typeof EVERYTHING;

function union(grants: (UnmaskGrant | undefined)[]): UnmaskGrant | undefined {
  const fields = new Set<string>();
  const labels = new Set<string>();
  for (const grant of grants) {
    for (const field of grant?.fields ?? []) fields.add(field);
    for (const label of grant?.labels ?? []) labels.add(label);
  }
  if (fields.size === 0 && labels.size === 0) return undefined;
  return { fields: [...fields], labels: [...labels] };
}

/**
 * Masks every `res.json()` body of the routes after it (the CRUD routers included) for the request's
 * principal (`contextOf(req).principal`, set by `authenticate()`); without a principal, everything
 * configured is masked. The grant is worked out before the handler runs, so an asynchronous ABAC check
 * costs nothing on the response path.
 */
export function maskResponse(options: MaskResponseOptions): RequestHandler {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(
      'options',
      'maskResponse(options) needs an options object (did you write app.use(maskResponse)?)',
    );
  }
  checkOptions('maskResponse()', options, KNOWN);
  const masker = options.masker;
  if (!masker || typeof masker.mask !== 'function')
    throw new ConfigError('masker', 'must have a mask(value, grant) method');
  if (options.isAllowed !== undefined && typeof options.isAllowed !== 'function') {
    throw new ConfigError(
      'isAllowed',
      'must be a function (principal, action, resource) => boolean | Promise<boolean>',
    );
  }
  const unmaskGroups = new Set(options.unmaskGroups ?? []);
  const groupGrants = new Map(Object.entries(options.groupGrants ?? {}));
  const kindGrants = options.kindGrants ?? {};
  const action = options.action ?? 'read:pii';
  const resourceOf = options.resource ?? ((kind, name) => `pii:${kind}:${name}`);
  const described = masker as Masker & { fields?: readonly string[]; labels?: readonly string[] };
  const fields = options.fields ?? [...(described.fields ?? [])];
  const labels = options.labels ?? [...(described.labels ?? [])];
  if (options.isAllowed && fields.length === 0 && labels.length === 0) {
    throw new ConfigError('fields', 'isAllowed needs fields or labels to ask about (the masker lists none)');
  }
  const fieldResources = fields.map((field) => resourceOf('field', field));
  const labelResources = labels.map((label) => resourceOf('label', label));

  function configured(principal: Principal | undefined): Resolved {
    if (!principal) return undefined;
    if (principal.groups.some((group) => unmaskGroups.has(group))) return EVERYTHING;
    return union([kindGrants[principal.kind], ...principal.groups.map((group) => groupGrants.get(group))]);
  }

  function resolve(principal: Principal | undefined): Resolved | Promise<Resolved> {
    const fixed = configured(principal);
    if (fixed === EVERYTHING || !options.isAllowed || !principal) return fixed;
    const check = options.isAllowed;
    const answers = [...fieldResources, ...labelResources].map((resource) => check(principal, action, resource));
    const combine = (allowed: boolean[]): Resolved =>
      union([
        fixed,
        {
          fields: fields.filter((_, index) => allowed[index] === true),
          labels: labels.filter((_, index) => allowed[fields.length + index] === true),
        },
      ]);
    if (answers.some((answer) => typeof (answer as Promise<boolean>)?.then === 'function')) {
      return Promise.all(answers).then(combine);
    }
    return combine(answers as boolean[]);
  }

  const listKeys = options.listKey === false ? [] : [options.listKey ?? ['items', 'data']].flat();
  function maskBody(body: unknown, grant: UnmaskGrant | undefined): unknown {
    if (listKeys.length > 0 && typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const listKey = listKeys.find((key) => Array.isArray((body as Record<string, unknown>)[key]));
      const items = listKey === undefined ? undefined : (body as Record<string, unknown>)[listKey];
      if (listKey !== undefined && Array.isArray(items)) {
        const rest: Record<string, unknown> = { ...(body as Record<string, unknown>) };
        delete rest[listKey];
        return { ...masker.mask(rest, grant), [listKey]: masker.mask(items, grant) };
      }
    }
    return masker.mask(body, grant);
  }

  function install(res: Response, grant: Resolved): void {
    if (grant === EVERYTHING) return;
    const json = res.json.bind(res);
    res.json = function maskedJson(body?: unknown) {
      return json(maskBody(body, grant));
    };
  }

  return function portcullisMaskResponse(req: Request, res: Response, next: NextFunction) {
    let resolved: Resolved | Promise<Resolved>;
    try {
      resolved = resolve(contextOf(req).principal);
    } catch (error) {
      next(error);
      return;
    }
    if (resolved instanceof Promise) {
      resolved.then(
        (grant) => {
          install(res, grant);
          next();
        },
        // A failing check must not leak data: the request fails instead of answering unmasked.
        (error: unknown) => next(error),
      );
      return;
    }
    install(res, resolved);
    next();
  };
}

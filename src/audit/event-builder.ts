// Builds audit events: enriches, masks and bounds an input, then seals it into this process's hash chains.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { errorForLog, type Logger } from '../logger.js';
import { maskOwned, type Masker } from '../pii/masker.js';
import { canonicalJson, NestingError } from './canonical.js';
import type { HashChain } from './chain.js';
import { auditContext } from './context.js';
import { uuidV7Generator, type Enricher } from './enrichers.js';
import type { AuditEvent, AuditEventBody, AuditEventInput } from './event.js';

// Event fields an enricher may set directly; anything else it returns goes into `data`.
const BODY_FIELDS = new Set([
  'id',
  'time',
  'action',
  'resource',
  'resourceId',
  'outcome',
  'status',
  'method',
  'path',
  'pathParams',
  'queryParams',
  'body',
  'user',
  'decision',
  'latencyMs',
  'requestId',
  'changes',
]);
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface EventBuilderOptions {
  chain: HashChain;
  masker: Masker | undefined;
  enrichers: readonly Enricher[];
  /** Run the default enricher (id and timestamp). */
  defaultEnricher: boolean;
  maxEventBytes: number;
  logger: Logger;
  now: Clock;
}

/** Stateless apart from the chain it seals into: `build` must be called in the order events are chained. */
export class EventBuilder {
  readonly #options: EventBuilderOptions;
  // The default enricher's work (cased's default plugin), done inline: its ids and times need no checks.
  readonly #nextId: (() => string) | undefined;

  constructor(options: EventBuilderOptions) {
    this.#options = options;
    this.#nextId = options.defaultEnricher ? uuidV7Generator(options.now) : undefined;
  }

  build(input: AuditEventInput): AuditEvent {
    const { now, enrichers } = this.#options;
    // The id, time and action stay out of the payload: they are the pipeline's own (or checked) values,
    // never masked, so the masker need not see them and the payload needs no copy without them.
    let id: unknown, time: unknown, action: unknown, requestId: unknown;
    const payload: Record<string, unknown> = {};
    const data: Record<string, unknown> = auditContext.get();
    for (const key of Object.keys(input ?? {})) {
      if (UNSAFE_KEYS.has(key)) continue;
      const value = (input as Record<string, unknown>)[key];
      if (key === 'data' && value && typeof value === 'object') Object.assign(data, value);
      else if (key === 'id') id = value;
      else if (key === 'time') time = value;
      else if (key === 'action') action = value;
      else if (key === 'requestId') requestId = value;
      else if (BODY_FIELDS.has(key)) payload[key] = value;
      else data[key] = value;
    }
    // Ids and times made here are valid by construction; only given ones are checked.
    const nextId = this.#nextId;
    const madeId = nextId !== undefined && id === undefined;
    const madeTime = nextId !== undefined && time === undefined;
    if (madeId) id = nextId();
    if (madeTime) time = new Date(now()).toISOString();
    if (enrichers.length > 0) {
      const view = { ...payload, id, time, action };
      this.#enrich(view, payload, data);
      ({ id, time, action } = view);
    }
    if (!madeId && (typeof id !== 'string' || !SAFE_ID.test(id))) id = randomUUID();
    if (!madeTime && (typeof time !== 'string' || Number.isNaN(Date.parse(time)))) time = new Date(now()).toISOString();
    action = typeof action === 'string' && action ? action.slice(0, 128) : 'UNKNOWN';
    // `data` is a fresh null-prototype copy of the context; the canonical copy below makes it plain.
    if (Object.keys(data).length > 0) payload.data = data;
    // The request id stays out of the masker's reach too: it is how a response is matched to its event, and a
    // recognizer found card and phone numbers inside random UUIDs (about 1 in 400).
    requestId ??= payload.requestId;
    delete payload.requestId;
    if (typeof requestId !== 'string' || !SAFE_ID.test(requestId)) requestId = undefined;
    const [body, json] = this.#masked(
      payload as Partial<AuditEventBody>,
      id as string,
      time as string,
      action as string,
      requestId as string | undefined,
    );
    // The body is a fresh copy (JSON.parse of its canonical text) that only this event holds.
    return this.#options.chain.seal(body, json, true);
  }

  /** Runs the extra enrichers; each fills only fields the event lacks. `view` is the event so far. */
  #enrich(view: Record<string, unknown>, payload: Record<string, unknown>, data: Record<string, unknown>): void {
    for (const enricher of this.#options.enrichers) {
      let additions: Record<string, unknown> | undefined;
      try {
        additions = enricher(view as AuditEventInput);
      } catch (error) {
        this.#options.logger.warn({ err: errorForLog(error) }, 'audit enricher failed; skipped');
        continue;
      }
      for (const key of Object.keys(additions ?? {})) {
        if (UNSAFE_KEYS.has(key)) continue;
        const value = additions![key];
        if (key === 'id' || key === 'time' || key === 'action') {
          if (view[key] === undefined) view[key] = value;
        } else if (BODY_FIELDS.has(key)) {
          if (payload[key] === undefined) view[key] = payload[key] = value;
        } else if (data[key] === undefined) data[key] = value;
      }
    }
  }

  #masked(
    payload: Partial<AuditEventBody>,
    id: string,
    time: string,
    action: string,
    requestId: string | undefined,
  ): [AuditEventBody, string] {
    const { masker, maxEventBytes, logger } = this.#options;
    let result: Record<string, unknown>;
    try {
      result = masker ? maskOwned(masker, payload) : payload;
      if (typeof result !== 'object' || result === null || Array.isArray(result)) {
        throw new TypeError('the masker did not return an object for the event');
      }
      // A masker's own object (frozen, or kept elsewhere) is copied rather than changed below.
      if (result !== payload) result = { ...result };
    } catch (error) {
      // Never store what could not be masked: keep only the request's shape.
      logger.error({ err: errorForLog(error), eventId: id }, 'audit masking failed; event stored without payload');
      const { body: _b, queryParams: _q, pathParams: _p, changes: _c, data: _d, user, ...rest } = payload;
      result = { ...rest, ...(user ? { user: { id: user.id } } : {}), data: { maskFailed: true } };
    }
    // Set after masking: the masker can neither see nor change them.
    result.id = id;
    result.time = time;
    result.action = action;
    if (requestId !== undefined) result.requestId = requestId;
    let body: AuditEventBody;
    let json: string;
    try {
      [body, json] = plainAndJson(result);
    } catch (error) {
      if (!(error instanceof NestingError)) throw error;
      // A payload nested past the bound (a body no jsonBody() measured) is dropped; the event is kept.
      const { body: _b, changes: _c, queryParams: _q, data: _d, ...rest } = result;
      [body, json] = plainAndJson({ ...rest, data: { truncated: true, tooDeep: true } });
    }
    if (json.length > maxEventBytes) {
      const { body: _b, changes: _c, queryParams: _q, data: _d, ...rest } = result;
      [body, json] = plainAndJson({ ...rest, data: { truncated: true, bytes: json.length } });
    }
    return [body, json];
  }
}

// The canonical text of the body, and the body as plain JSON (what a store gives back) parsed from it.
function plainAndJson(event: object): [AuditEventBody, string] {
  const json = canonicalJson(event);
  return [JSON.parse(json) as AuditEventBody, json];
}

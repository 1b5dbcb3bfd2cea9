// The audit event being built for the current request; handlers add to it through the request context.

export interface AuditEventDraft {
  /** CREATE, UPDATE, DELETE, GET, LIST, SEARCH or a custom action. */
  action?: string;
  /** The resource name, e.g. `accounts`. */
  resource?: string;
  /** The record id when one record is concerned. */
  resourceId?: string;
  /** Field values before a change (updates and deletes). */
  before?: Record<string, unknown>;
  /** Field values after a change (creates and updates). */
  after?: Record<string, unknown>;
  /** Set true to record nothing for this request. */
  skip?: boolean;
  /** Set true to keep the request body out of the event even when `captureBody` is on (e.g. file names). */
  omitBody?: boolean;
  /** Anything else handlers want on the event. */
  extra: Record<string, unknown>;
  /**
   * Set by a route that changed several records in one request (a batch): `auditTrail()` then records one
   * event per entry instead of one for the request, each with the request's principal, decision, status and
   * request id, and the entry's record id, changes, body and extra data.
   */
  records?: AuditRecordDraft[];
}

/** One record's part of a request that changed several. */
export interface AuditRecordDraft {
  /** Default: the request's action. */
  action?: string;
  resourceId: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  /** The part of the request body about this record (recorded when `captureBody` is on). */
  body?: unknown;
  extra?: Record<string, unknown>;
}

declare module '../context.js' {
  interface RequestContext {
    /** Set by `auditTrail()`; routers fill action, resource and before/after. */
    audit?: AuditEventDraft;
  }
}

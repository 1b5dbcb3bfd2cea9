// The parsed list query the filter middleware puts on the request context.

export interface ParsedListQuery {
  /** The MongoDB filter compiled from the querystring (already merged with permission filters). */
  filter: Record<string, unknown>;
  sort: Record<string, 1 | -1>;
  limit: number;
  /** An opaque cursor to continue from, when given. */
  cursor?: string;
  offset?: number;
  /** Fields to return; undefined means all visible fields. */
  projection?: string[];
  /** In-memory predicate with the same semantics as `filter`. */
  matches(record: Record<string, unknown>): boolean;
}

declare module '../context.js' {
  interface RequestContext {
    /** Set by the filter middleware or a CRUD router's list route. */
    query?: ParsedListQuery;
  }
}

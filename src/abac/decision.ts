// The outcome of an ABAC decision, put on the request context by authorize() and recorded by audit.

export interface DecisionInquiry {
  subject: unknown;
  action: unknown;
  resource: unknown;
  context: Record<string, unknown>;
}

export interface Decision {
  allowed: boolean;
  /** Uids of the policies that decided (the allowing ones, or the denying ones that overrode). */
  deciders: string[];
  /** A short reason safe to show a client, e.g. "no policy allows this" or "denied by policy". */
  reason: string;
  inquiry: DecisionInquiry;
  /** How long the decision took, in milliseconds. */
  durationMs?: number;
}

declare module '../context.js' {
  interface RequestContext {
    /** Set by `authorize()`. */
    decision?: Decision;
  }
}

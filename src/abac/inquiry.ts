// The inquiry: one concrete access request (who, what, on which resource, in which context).

/** What is asked: the subject wants to perform the action on the resource, in the context. */
export interface Inquiry {
  subject?: unknown;
  action?: unknown;
  resource?: unknown;
  context?: Record<string, unknown>;
}

export type InquiryField = 'subject' | 'action' | 'resource';

/** An inquiry with every part present (context defaults to `{}`), as the guard evaluates it. */
export interface NormalizedInquiry {
  subject: unknown;
  action: unknown;
  resource: unknown;
  context: Record<string, unknown>;
}

export function normalizeInquiry(inquiry: Inquiry | null | undefined): NormalizedInquiry {
  const source = (typeof inquiry === 'object' && inquiry !== null ? inquiry : {}) as Inquiry;
  const context = source.context;
  return {
    subject: source.subject,
    action: source.action,
    resource: source.resource,
    context: typeof context === 'object' && context !== null && !Array.isArray(context) ? context : {},
  };
}

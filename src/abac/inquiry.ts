// The inquiry: one concrete access request (who, what, on which resource, in which context).
import { isTruthy } from './values.js';

/** What is asked: the subject wants to perform the action on the resource, in the context. */
export interface Inquiry {
  subject?: unknown;
  action?: unknown;
  resource?: unknown;
  context?: Record<string, unknown>;
}

export type InquiryField = 'subject' | 'action' | 'resource';

/** An inquiry with every part present (falsy parts become `''`, context defaults to `{}`), as the guard evaluates it. */
export interface NormalizedInquiry {
  subject: unknown;
  action: unknown;
  resource: unknown;
  context: Record<string, unknown>;
}

export function normalizeInquiry(inquiry: Inquiry | null | undefined): NormalizedInquiry {
  const source = (typeof inquiry === 'object' && inquiry !== null ? inquiry : {}) as Inquiry;
  const context = source.context;
  // vakt's Inquiry turns every falsy part (None, 0, False, [], {}) into '': rules see what vakt's see.
  return {
    subject: isTruthy(source.subject) ? source.subject : '',
    action: isTruthy(source.action) ? source.action : '',
    resource: isTruthy(source.resource) ? source.resource : '',
    context: typeof context === 'object' && context !== null && !Array.isArray(context) ? context : {},
  };
}

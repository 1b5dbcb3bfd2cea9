// The event fields the audit listing can filter on, with their types.

/** Event fields the listing can filter on by equality, and what each holds. */
export const AUDIT_QUERY_FIELDS = {
  id: 'string',
  action: 'string',
  resource: 'string',
  resourceId: 'string',
  outcome: 'string',
  status: 'number',
  method: 'string',
  path: 'string',
  requestId: 'string',
  stream: 'string',
  'user.id': 'string',
  'user.name': 'string',
  'user.kind': 'string',
  'user.apiKeyId': 'string',
} as const;

export type AuditQueryField = keyof typeof AUDIT_QUERY_FIELDS;

// The magic operators (`field__op=value`), their aliases and the field types each accepts.
import type { ScalarType } from './schema.js';

export type OperatorName =
  | 'eq'
  | 'in'
  | 'notin'
  | 'ne'
  | 'startswith'
  | 'contains'
  | 'notcontains'
  | 'exists'
  | 'gt'
  | 'lt'
  | 'gte'
  | 'lte'
  | 'between';

/** Names accepted after `__`: scoutr's README names plus `ge` / `le` (scoutr's code) and `eq`. */
export const operatorAliases: Readonly<Record<string, OperatorName>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, OperatorName>, {
    eq: 'eq',
    in: 'in',
    notin: 'notin',
    ne: 'ne',
    startswith: 'startswith',
    contains: 'contains',
    notcontains: 'notcontains',
    exists: 'exists',
    gt: 'gt',
    lt: 'lt',
    gte: 'gte',
    ge: 'gte',
    lte: 'lte',
    le: 'lte',
    between: 'between',
  }),
);

const ordered: ScalarType[] = ['string', 'number', 'date', 'objectId'];
const all: ScalarType[] = ['string', 'number', 'boolean', 'date', 'objectId'];

/** Which field types each operator applies to. */
export const operatorTypes: Readonly<Record<OperatorName, readonly ScalarType[]>> = {
  eq: all,
  ne: all,
  in: all,
  notin: all,
  exists: all,
  gt: ordered,
  lt: ordered,
  gte: ordered,
  lte: ordered,
  between: ordered,
  startswith: ['string'],
  contains: ['string'],
  notcontains: ['string'],
};

// The list querystring of a resource as OpenAPI parameters: each filter operator a field allows, sort, paging.
import type { FieldCapabilities, QueryCompiler } from '../filter/compile.js';
import type { OperatorName } from '../filter/operators.js';
import type { ScalarType } from '../filter/schema.js';
import { scalarSchema } from './fields.js';
import type { JsonSchema, OpenApiParameter } from './types.js';

const WORDS: Record<OperatorName, string> = {
  eq: 'equals the value (repeat the parameter for any of several values)',
  ne: 'differs from the value',
  in: 'is one of the values of a JSON list',
  notin: 'is none of the values of a JSON list',
  exists: 'is present (true) or absent (false)',
  gt: 'is greater than the value',
  lt: 'is less than the value',
  gte: 'is at least the value (alias `__ge`)',
  lte: 'is at most the value (alias `__le`)',
  between: 'is between the two values of a JSON list, both included',
  startswith: 'starts with the text',
  contains: 'contains the text',
  notcontains: 'does not contain the text',
};

const EXAMPLES: Record<ScalarType, unknown> = {
  string: 'text',
  number: 1,
  boolean: true,
  date: '2024-01-31T00:00:00.000Z',
  objectId: '65a1b2c3d4e5f6a7b8c9d0e1',
};

function exampleOf(capability: FieldCapabilities): unknown {
  const spec = capability.field.spec;
  if (spec.enum && spec.enum.length > 0) return spec.enum[0];
  return EXAMPLES[capability.field.type];
}

function listParameter(
  name: string,
  description: string,
  items: JsonSchema,
  length: [number, number],
  example: unknown[],
) {
  return {
    name,
    in: 'query' as const,
    description,
    content: {
      'application/json': { schema: { type: 'array', items, minItems: length[0], maxItems: length[1] }, example },
    },
  };
}

/** The filter parameters of one field, one per operator it allows (`field` for equality, `field__op` else). */
export function filterParameters(capability: FieldCapabilities, maxListLength: number): OpenApiParameter[] {
  const { field } = capability;
  const value = scalarSchema(field.type);
  const example = exampleOf(capability);
  const subject = field.array ? `an element of \`${field.path}\`` : `\`${field.path}\``;
  return capability.operators.map((op): OpenApiParameter => {
    const name = op === 'eq' ? field.path : `${field.path}__${op}`;
    const description = `Records whose ${subject} ${WORDS[op]}.`;
    switch (op) {
      case 'in':
      case 'notin':
        return listParameter(name, description, value, [1, maxListLength], [example]);
      case 'between': {
        const high = typeof example === 'number' ? example + 1 : example;
        return listParameter(name, description, value, [2, 2], [example, high]);
      }
      case 'exists':
        return { name, in: 'query', description, schema: { type: 'boolean' }, example: true };
      default:
        return { name, in: 'query', description, schema: value, example };
    }
  });
}

export interface ListParameterOptions {
  compiler: QueryCompiler;
  /** Fields the caller may not read in clear: not filterable nor sortable by it (left out entirely). */
  unreadable: ReadonlySet<string>;
  /** Fields the caller may not see at all: left out of `fields` too. */
  hidden: ReadonlySet<string>;
}

/** The fields a caller may filter on, with what it may do with each (id first). */
export function readableCapabilities(compiler: QueryCompiler, unreadable: ReadonlySet<string>): FieldCapabilities[] {
  const paths = [compiler.idField, ...[...compiler.schema.fields.keys()].filter((path) => path !== compiler.idField)];
  const result: FieldCapabilities[] = [];
  for (const path of paths) {
    if (path !== compiler.idField && unreadable.has(path)) continue;
    const capability = compiler.capabilities(path);
    if (capability) result.push(capability);
  }
  return result;
}

/** Every parameter of a list route: filters of each readable field, then sort, limit, cursor, offset, fields, count. */
export function listParameters(options: ListParameterOptions): OpenApiParameter[] {
  const { compiler } = options;
  const limits = compiler.limits;
  const capabilities = readableCapabilities(compiler, options.unreadable);
  const parameters = capabilities.flatMap((capability) => filterParameters(capability, limits.maxListLength));
  const sortable = capabilities.filter((capability) => capability.sortable).map((c) => c.field.path);
  const visible = [compiler.idField, ...[...compiler.schema.fields.keys()].filter((path) => !options.hidden.has(path))];
  parameters.push(
    {
      name: 'sort',
      in: 'query',
      description:
        `Comma-separated fields to sort by, \`-\` before a field for descending, at most ${limits.maxSortKeys}; ` +
        `\`${compiler.idField}\` breaks ties. Sortable: ${sortable.map((path) => `\`${path}\``).join(', ')}.`,
      schema: { type: 'string' },
      example: sortable.length > 1 ? `-${sortable[1]}` : sortable[0],
    },
    {
      name: 'limit',
      in: 'query',
      description: 'Page size.',
      schema: { type: 'integer', minimum: 1, maximum: limits.maxLimit, default: limits.defaultLimit },
    },
    {
      name: 'cursor',
      in: 'query',
      description: "The previous page's `nextCursor`, with the same filters and sort.",
      schema: { type: 'string' },
    },
  );
  if (limits.allowOffset) {
    parameters.push({
      name: 'offset',
      in: 'query',
      description: 'Records to skip (instead of a cursor).',
      schema: { type: 'integer', minimum: 0, maximum: limits.maxOffset },
    });
  }
  parameters.push(
    {
      name: 'fields',
      in: 'query',
      description: `Comma-separated fields to answer with (\`${compiler.idField}\` always comes). Fields: ${visible
        .map((path) => `\`${path}\``)
        .join(', ')}.`,
      schema: { type: 'string' },
    },
    {
      name: 'count',
      in: 'query',
      description: 'Also answer `count`, the number of matching records.',
      schema: { type: 'boolean', default: false },
    },
  );
  return parameters;
}

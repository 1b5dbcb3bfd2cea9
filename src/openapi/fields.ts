// JSON Schemas of a resource's declared fields and records, as one caller sees them (hidden fields absent).
import type { CompiledField, ScalarType } from '../filter/schema.js';
import type { FieldView } from '../pii/visibility.js';
import type { JsonSchema } from './types.js';

const OBJECT_ID = '^[0-9a-fA-F]{24}$';

/** The JSON Schema of one value of a scalar type, as it travels in JSON. */
export function scalarSchema(type: ScalarType): JsonSchema {
  switch (type) {
    case 'string':
      return { type: 'string' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date-time' };
    case 'objectId':
      return { type: 'string', pattern: OBJECT_ID };
  }
}

function isoOf(bound: number | string | Date): string {
  const date = bound instanceof Date ? bound : new Date(bound);
  return Number.isFinite(date.getTime()) ? date.toISOString() : String(bound);
}

/** A field's value with its declared rules: enum, bounds, lengths and pattern. */
export function fieldSchema(field: CompiledField): JsonSchema {
  const spec = field.spec;
  const schema = scalarSchema(field.type);
  const notes: string[] = [];
  if (spec.enum) schema.enum = [...spec.enum];
  if (field.type === 'number') {
    if (typeof spec.min === 'number') schema.minimum = spec.min;
    if (typeof spec.max === 'number') schema.maximum = spec.max;
  }
  // JSON Schema bounds only numbers: date bounds are said in words.
  if (field.type === 'date' && spec.min !== undefined) notes.push(`not before ${isoOf(spec.min)}`);
  if (field.type === 'date' && spec.max !== undefined) notes.push(`not after ${isoOf(spec.max)}`);
  if (spec.minLength !== undefined) schema.minLength = spec.minLength;
  if (spec.maxLength !== undefined) schema.maxLength = spec.maxLength;
  if (spec.pattern) {
    const flags = spec.pattern.flags.replace(/[gy]/g, '');
    // JSON Schema patterns carry no flags: a flagged pattern is given in words.
    if (flags === '') schema.pattern = spec.pattern.source;
    else notes.push(`matches /${spec.pattern.source}/${flags}`);
  }
  if (notes.length > 0) schema.description = `${notes.join('; ')}.`;
  return field.array ? { type: 'array', items: schema } : schema;
}

/** `schema` or null. */
export function nullable(schema: JsonSchema): JsonSchema {
  return { anyOf: [schema, { type: 'null' }] };
}

export interface RecordSchemaOptions {
  /** The declared fields (the id field excluded). */
  fields: Iterable<CompiledField>;
  /** How the caller sees a path; hidden paths are left out. */
  view: (path: string) => FieldView;
  /**
   * `record`: a record as answered (every field optional, masked ones loosened); `create` / `replace`: a body
   * with the required fields required; `patch`: a JSON merge patch (every field optional, null removes).
   */
  mode: 'record' | 'create' | 'replace' | 'patch';
  /**
   * Paths a `create` / `replace` body must hold though their declaration does not say `required`: the CRUD
   * router requires every field that has a validator. Default none.
   */
  required?: ReadonlySet<string>;
  /** Fields the server sets (ids, timestamps): in records only. */
  serverFields?: Readonly<Record<string, JsonSchema>>;
}

interface Node {
  field?: CompiledField;
  children: Map<string, Node>;
}

const MASKED = 'Shown masked to you: the value is altered or left out, so its declared rules do not apply.';

/** The JSON Schema of a record or of a write body, nesting dotted paths into objects. */
export function recordSchema(options: RecordSchemaOptions): JsonSchema {
  const root: Node = { children: new Map() };
  for (const field of options.fields) {
    if (options.view(field.path) === 'hidden') continue;
    let node = root;
    for (const segment of field.path.split('.')) {
      let child = node.children.get(segment);
      if (!child) {
        child = { children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    node.field = field;
  }
  const object = toObject(root, options);
  if (options.mode === 'record' && options.serverFields) {
    const properties = object.properties as Record<string, JsonSchema>;
    Object.assign(properties, options.serverFields);
  }
  return object;
}

function toObject(node: Node, options: RecordSchemaOptions): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, child] of node.children) {
    let schema: JsonSchema;
    if (child.field) {
      const field = child.field;
      if (options.mode === 'record' && options.view(field.path) === 'masked') {
        schema =
          field.type === 'string' && !field.array ? { type: 'string', description: MASKED } : { description: MASKED };
      } else {
        schema = fieldSchema(field);
        // Stores keep null for an absent optional field; a merge patch removes with null.
        if (!field.spec.required || options.mode === 'patch') schema = nullable(schema);
      }
      if (isRequired(field, options) && (options.mode === 'create' || options.mode === 'replace')) required.push(name);
    } else {
      schema = toObject(child, options);
      if (options.mode !== 'record' && hasRequired(child, options)) {
        if (options.mode !== 'patch') required.push(name);
      }
      if (options.mode === 'patch' || !hasRequired(child, options)) schema = nullable(schema);
    }
    properties[name] = schema;
  }
  // Stores refuse fields they do not declare; a record answered shows nothing else either.
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

function isRequired(field: CompiledField, options: RecordSchemaOptions): boolean {
  return field.spec.required === true || options.required?.has(field.path) === true;
}

function hasRequired(node: Node, options: RecordSchemaOptions): boolean {
  if (node.field) return isRequired(node.field, options);
  for (const child of node.children.values()) if (hasRequired(child, options)) return true;
  return false;
}

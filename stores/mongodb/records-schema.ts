// Between mongoose schemas and Portcullis field declarations, so one resource runs on both backends.
import { Schema, type Model, type SchemaDefinition } from 'mongoose';
import { compileSchema, type CompiledSchema, type ScalarType, type SchemaInput } from '../../src/filter/index.js';

/** Any mongoose model: document types vary per application, the store only relies on the schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mongoose's own way to say "any model"
export type AnyModel = Model<any>;

const fromInstance: Record<string, ScalarType> = {
  String: 'string',
  Number: 'number',
  Boolean: 'boolean',
  Date: 'date',
  ObjectId: 'objectId',
};

const toMongoose: Record<ScalarType, unknown> = {
  string: String,
  number: Number,
  boolean: Boolean,
  date: Date,
  objectId: Schema.Types.ObjectId,
};

/** The filterable fields of a mongoose model: scalar paths and arrays of scalars; other paths are left out. */
export function fieldsOfModel(model: AnyModel): CompiledSchema {
  const fields: SchemaInput = {};
  for (const [path, type] of Object.entries(model.schema.paths)) {
    if (path === '_id' || path === '__v') continue;
    const instance = (type as { instance?: string }).instance;
    if (instance === 'Array') {
      const element = (type as { embeddedSchemaType?: { instance?: string } }).embeddedSchemaType?.instance;
      const scalar = element ? fromInstance[element] : undefined;
      if (scalar) fields[path] = `${scalar}[]`;
    } else if (instance && fromInstance[instance]) {
      fields[path] = fromInstance[instance];
    }
  }
  return compileSchema(fields);
}

/** The type of a model's `_id`: ObjectId (mongoose's default) or string. */
export function idTypeOfModel(model: AnyModel): 'string' | 'objectId' {
  const instance = (model.schema.path('_id') as { instance?: string } | undefined)?.instance;
  if (instance === 'ObjectId') return 'objectId';
  if (instance === 'String') return 'string';
  throw new TypeError('MongoRecordStore: the model _id must be an ObjectId or a String');
}

/**
 * A mongoose schema from a Portcullis field declaration (types and rules), with string ids, no `__v`,
 * strict. Use it to run one resource declaration on MongoDB and in memory alike.
 */
export function mongooseSchemaFor(input: SchemaInput): Schema {
  const schema = compileSchema(input);
  const definition: Record<string, unknown> = { _id: String };
  for (const field of schema.fields.values()) {
    const spec = field.spec;
    const rules: Record<string, unknown> = { type: toMongoose[field.type] };
    if (spec.required) rules.required = true;
    if (spec.enum) rules.enum = spec.enum;
    if (spec.min !== undefined) rules.min = spec.min;
    if (spec.max !== undefined) rules.max = spec.max;
    if (spec.minLength !== undefined) rules.minlength = spec.minLength;
    if (spec.maxLength !== undefined) rules.maxlength = spec.maxLength;
    if (spec.pattern) rules.match = spec.pattern;
    // No implicit [] for arrays, so a missing list stays missing as it does in memory.
    definition[field.path] = field.array ? { type: [rules], default: undefined } : rules;
  }
  return new Schema(definition as SchemaDefinition, { versionKey: false, strict: true, _id: false });
}

// Between mongoose schemas and Portcullis field declarations, so one resource runs on both backends.
import { Schema, type Model, type SchemaDefinition } from 'mongoose';
import { ConfigError } from '../../src/errors.js';
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

// The declaration each `mongooseSchemaFor` schema was made from: its flags (filterable, sortable) and rules
// have no mongoose form, and a store over that schema must refuse and allow what the declaration says.
const declarations = new WeakMap<Schema, CompiledSchema>();

/**
 * The fields of a mongoose model: the declaration it was made from (`mongooseSchemaFor`) when there is one,
 * else its scalar paths and arrays of scalars, all filterable and sortable; other paths are left out.
 */
export function fieldsOfModel(model: AnyModel): CompiledSchema {
  const declared = declarations.get(model.schema);
  if (declared) return declared;
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
  const mongooseSchema = new Schema(definition as SchemaDefinition, { versionKey: false, strict: true, _id: false });
  declarations.set(mongooseSchema, schema);
  return mongooseSchema;
}

/**
 * Checks a field declaration against a model: every declared field must be a path of the model's schema
 * with the same type, so the declaration the query compiler uses describes what MongoDB stores.
 */
export function checkFieldsOfModel(schema: CompiledSchema, model: AnyModel, option: string): CompiledSchema {
  const actual = fieldsOfModel(model);
  for (const field of schema.fields.values()) {
    const found = actual === schema ? field : actual.fields.get(field.path);
    if (!found || found.type !== field.type || found.array !== field.array) {
      throw new ConfigError(
        `${option}.${field.path}`,
        found
          ? `is declared ${field.spec.type} but the mongoose model stores ${found.spec.type}`
          : 'is not a path of the mongoose model',
      );
    }
  }
  return schema;
}

// The filter language: querystring → typed filter → MongoDB filter or in-memory predicate.
export type { ParsedListQuery } from './query.js';
export {
  ObjectIdRef,
  and,
  or,
  not,
  matchAll,
  matchNone,
  type FilterNode,
  type Condition,
  type FilterValue,
  type CompareOp,
  type ListOp,
  type SortKey,
  type ValueType,
} from './ast.js';
export {
  compileSchema,
  openSchema,
  isSafePath,
  scalarTypes,
  type SchemaInput,
  type FieldSpec,
  type FieldType,
  type ScalarType,
  type CompiledSchema,
  type CompiledField,
} from './schema.js';
export {
  createQueryCompiler,
  compileListQuery,
  controlKeys,
  type QueryCompiler,
  type QueryCompilerOptions,
  type CompileContext,
  type CompiledListQuery,
  type FieldCapabilities,
  type QueryLimits,
} from './compile.js';
export { operatorAliases, operatorTypes, type OperatorName } from './operators.js';
export {
  toMongoFilter,
  toMongoSort,
  escapeRegex,
  mongoMatchNone,
  type MongoFilter,
  type MongoCompileOptions,
} from './mongo.js';
export { toPredicate, readPath, type Predicate } from './matcher.js';
export { compareValues, valuesEqual, kindOf } from './compare.js';
export { createCursorCodec, keysetAfter, type CursorCodec } from './cursor.js';
export { castText, castJson } from './cast.js';
export type { QueryInput } from './querystring.js';

// Checks on OpenAPI documents: validity against the OpenAPI 3.1 schema, and bodies against a documented schema.
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { OpenApiDocument, OpenApiOperation, OpenApiParameter } from '../../src/openapi/types.js';

/** The errors of `document` against the official OpenAPI 3.1 schema, with every `$ref` resolved; none when valid. */
export async function openApiErrors(document: unknown): Promise<unknown[]> {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document) as Parameters<Validator['validate']>[0]);
  if (!result.valid) return (result.errors as unknown[]) ?? ['invalid'];
  if (validator.version !== '3.1') return [`version ${validator.version}`];
  validator.resolveRefs();
  return [];
}

const addFormats = ((formats as unknown as { default?: typeof formats }).default ?? formats) as unknown as (
  ajv: Ajv2020,
) => void;

/** Compiles schemas of a document (by JSON pointer into it), with its `$ref`s resolved against it. */
export function schemaChecker(document: OpenApiDocument): (pointer: string) => ValidateFunction {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(document as object, 'openapi.json');
  const cache = new Map<string, ValidateFunction>();
  return (pointer) => {
    let validate = cache.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi.json#${pointer}` });
      cache.set(pointer, validate);
    }
    return validate;
  };
}

/** A JSON pointer segment. */
export function pointerSegment(text: string): string {
  return text.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The parameters of an operation with `$ref`s resolved, path-level ones first. */
export function parametersOf(document: OpenApiDocument, path: string, operation: OpenApiOperation): OpenApiParameter[] {
  const all = [...(document.paths[path]?.parameters ?? []), ...(operation.parameters ?? [])];
  return all.map((parameter) => {
    if (!('$ref' in parameter)) return parameter;
    const name = parameter.$ref.replace('#/components/parameters/', '');
    const resolved = document.components.parameters?.[name];
    if (!resolved) throw new Error(`unresolved ${parameter.$ref}`);
    return resolved;
  });
}

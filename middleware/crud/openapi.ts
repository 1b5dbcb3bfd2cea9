// crudRouter's routes in OpenAPI, as one caller sees the resource: its fields, filters, paging and errors.
import type { CrudAction } from '../../src/auth/scopes.js';
import { DECRYPTION_ERROR_FIELD } from '../../src/contracts/records.js';
import { isResident } from '../../src/contracts/residency.js';
import { controlKeys } from '../../src/filter/compile.js';
import { recordSchema, scalarSchema } from '../../src/openapi/fields.js';
import { listParameters, readableCapabilities } from '../../src/openapi/parameters.js';
import { BODY_CODES, mergeCodes, type ProblemCodes } from '../../src/openapi/problems.js';
import type {
  JsonSchema,
  OpenApiOperation,
  OpenApiParameter,
  OpenApiParameterOrRef,
  OpenApiPathItem,
  OpenApiResponse,
} from '../../src/openapi/types.js';
import { operation as describeOperation } from '../../src/openapi/operation.js';
import type { RequestHandler } from 'express';
import { describerOf, type Describer, type RouterDescription } from '../openapi/describe.js';
import type { Visibility } from '../../src/pii/visibility.js';
import { isHidden } from './access.js';
import type { CrudState } from './state.js';
import { DEFAULT_MAX_BATCH_RECORDS } from './batch.js';

/** What the list route refuses a querystring with. */
const LIST_CODES = [
  'filter.too_large',
  'filter.bad_encoding',
  'filter.forbidden_key',
  'filter.repeated_parameter',
  'filter.unknown_operator',
  'filter.unknown_field',
  'filter.unsupported_operator',
  'filter.encrypted_field',
  'filter.invalid_value',
  'filter.conflict',
  'filter.invalid_cursor',
];
const IF_MATCH_CODES: ProblemCodes = { 400: ['validation.if_match'], 412: ['precondition_failed'] };
const RECORD_MISSING: ProblemCodes = { 404: ['not_found.record'] };
const CONCURRENT: ProblemCodes = { 409: ['conflict.concurrent_update'] };
const UNDECRYPTABLE_CODES: ProblemCodes = { 409: ['conflict.undecryptable'] };
/** What a caller who sees no encrypted field is told instead (present.ts / write.ts say why). */
const NOT_UPDATABLE: ProblemCodes = { 409: ['conflict.not_updatable'] };
const WRITE_BODY: ProblemCodes = mergeCodes({ 400: ['validation.body', 'validation.fields'] }, BODY_CODES);

const ETAG = { description: "The record's version, for If-Match.", schema: { type: 'string' } };
const JSON_TYPE = 'application/json';

function json(schema: JsonSchema): Record<string, { schema: JsonSchema }> {
  return { [JSON_TYPE]: { schema } };
}

function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

/** The describer of one crudRouter. */
export function describeCrud(state: CrudState, guardsOf: (action: CrudAction) => RequestHandler[]): Describer {
  const { options, compiler, resource } = state;
  const limits = compiler.limits;
  const names = { record: resource, create: `${resource}.create`, patch: `${resource}.patch` };
  const serverFields = new Set(['id', 'deletedAt', ...(state.timestamps ? ['createdAt', 'updatedAt'] : [])]);
  // `runValidators` requires every validated field, whatever its declaration says.
  const validated = new Set(Object.keys(options.validators ?? {}));

  // The errors of an action's guards: the endpoint guard, the credential's scope, then the `authorize` hook
  // (as it describes itself; a hook of the app's own is taken to answer a plain 403 `forbidden`).
  function guardCodes(action: CrudAction): ProblemCodes {
    const codes: ProblemCodes[] = [{ 403: ['forbidden.endpoint'] }];
    // Record-level ABAC runs inside the route, for a signed-in caller at a known address.
    if (options.guard) {
      codes.push({
        400: ['validation.client_address'],
        401: ['authentication.required'],
        403: ['forbidden.unfilterable_policy'],
      });
    }
    for (const guard of guardsOf(action)) {
      const describer = describerOf(guard);
      codes.push(describer ? (describer({}).problems ?? {}) : { 403: ['forbidden'] });
    }
    return mergeCodes(...codes);
  }

  function operation(
    action: CrudAction,
    id: string,
    summary: string,
    success: Record<string, OpenApiResponse>,
    codes: ProblemCodes,
    extra: Partial<OpenApiOperation> = {},
  ): OpenApiOperation {
    return describeOperation(
      resource,
      `${resource}.${id}`,
      summary,
      success,
      mergeCodes(codes, guardCodes(action)),
      extra,
    );
  }

  // Views are shared by callers who see the fields alike (and kept by the visibility model): one description each.
  const described = new WeakMap<Visibility, RouterDescription>();
  return ({ request }) => {
    const view = request ? state.view(request) : state.visibility.of([], undefined);
    let description = described.get(view);
    if (!description) {
      description = describe(view);
      described.set(view, description);
    }
    return description;
  };

  function describe(view: Visibility): RouterDescription {
    const readable = readableCapabilities(compiler, view.unreadable);
    const fields = [...compiler.schema.fields.values()].filter((field) => field.path !== compiler.idField);
    // The decryption marker, the errors list and their 409 only for a caller who sees an encrypted field,
    // as the routes answer (all fields count as encrypted when the store does not say).
    const blindIndex = state.blindIndex;
    const seesEncrypted =
      !blindIndex || fields.some((field) => blindIndex.isEncrypted(field.path) && !isHidden(view.hidden, field.path));
    // A record may lack the encrypted fields the caller sees, and then be refused without a reason.
    const undecryptable = !seesEncrypted
      ? NOT_UPDATABLE
      : blindIndex
        ? mergeCodes(UNDECRYPTABLE_CODES, NOT_UPDATABLE)
        : UNDECRYPTABLE_CODES;
    const inputFields = fields.filter((field) => !serverFields.has(field.path.split('.')[0]!));
    const idSchema = scalarSchema(compiler.capabilities(compiler.idField)!.field.type);
    const schemas: Record<string, JsonSchema> = {
      [names.record]: recordSchema({
        fields,
        view: view.of,
        mode: 'record',
        serverFields: {
          id: idSchema,
          deletedAt: { type: 'string', format: 'date-time' },
          ...(seesEncrypted
            ? {
                [DECRYPTION_ERROR_FIELD]: {
                  type: 'string',
                  description:
                    'Set when the record cannot be decrypted: the problem code; its encrypted fields are null.',
                },
              }
            : {}),
        },
      }),
      [names.create]: recordSchema({ fields: inputFields, view: view.of, mode: 'create', required: validated }),
      [names.patch]: recordSchema({ fields: inputFields, view: view.of, mode: 'patch' }),
    };
    const record: Record<string, OpenApiResponse> = {
      200: { description: `The ${resource} record.`, headers: { ETag: ETAG }, content: json(ref(names.record)) },
    };
    // Defined once in components and referred to by each list route (six of them share ~150 parameters).
    const parameters: Record<string, OpenApiParameter> = {};
    const filters = listParameters({ compiler, unreadable: view.unreadable, hidden: view.hidden }).map((parameter) => {
      const name = `${resource}.${parameter.name}`;
      parameters[name] = parameter;
      return { $ref: `#/components/parameters/${name}`, name: parameter.name };
    });
    const onlyFilters = filters
      .filter((parameter) => !(controlKeys as readonly string[]).includes(parameter.name))
      .map(({ $ref }) => ({ $ref }));
    const listRefs = filters.map(({ $ref }) => ({ $ref }));
    const page: JsonSchema = {
      type: 'object',
      properties: {
        items: { type: 'array', items: ref(names.record) },
        nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last.' },
        ...(limits.allowOffset
          ? { nextOffset: { type: ['integer', 'null'], description: 'With `offset` paging: the next offset.' } }
          : {}),
        count: { type: 'integer', minimum: 0, description: 'With `count=true`: the number of matching records.' },
        ...(seesEncrypted
          ? {
              errors: {
                type: 'array',
                description: 'Records of this page that cannot be decrypted (their encrypted fields are null).',
                items: {
                  type: 'object',
                  properties: { id: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
                  required: ['id', 'code', 'message'],
                },
              },
            }
          : {}),
      },
      required: ['items', 'nextCursor'],
      additionalProperties: false,
    };
    // A resident store's routes name their country (docs/residency.md): one-record routes by a required
    // parameter, creates by the body or that parameter, lists by their filters.
    const resident = isResident(state.store) ? state.store : undefined;
    const countryCodes: ProblemCodes = resident
      ? { 400: ['residency.country_required', 'residency.unknown_country'] }
      : {};
    const countryParameter = (required: boolean): OpenApiParameter[] =>
      resident
        ? [
            {
              name: resident.countryField,
              in: 'query',
              required,
              description: required
                ? 'The country the record is stored in.'
                : "The record's country, when its body does not name it.",
              schema: { type: 'string', pattern: '^[a-z]{2}$' },
            },
          ]
        : [];
    const listCodes: ProblemCodes = mergeCodes(
      { 400: limits.allowOffset ? LIST_CODES : [...LIST_CODES, 'filter.unknown_parameter'] },
      countryCodes,
    );
    const list = (id: string, summary: string, parameters: OpenApiParameterOrRef[]) =>
      operation('list', id, summary, { 200: { description: 'A page of records.', content: json(page) } }, listCodes, {
        parameters,
      });
    const idParameter: OpenApiParameter = { name: 'id', in: 'path', required: true, schema: idSchema };
    const itemParameters = [idParameter, ...countryParameter(true)];
    const located = mergeCodes(countryCodes, resident ? { 400: ['residency.country_ambiguous'] } : {});
    const recordMissing = mergeCodes(RECORD_MISSING, located);
    const keepsCountry: ProblemCodes = resident ? { 400: ['residency.country_changed'] } : {};
    const ifMatch: OpenApiParameter = {
      name: 'If-Match',
      in: 'header',
      description: 'Write only if the record is still at this version (its ETag); 412 otherwise.',
      schema: { type: 'string' },
    };
    const paths: Record<string, OpenApiPathItem> = {};

    paths['/'] = {
      get: list('list', `List ${resource}`, listRefs),
      post: operation(
        'create',
        'create',
        `Create a ${resource} record`,
        {
          201: {
            description: 'Created.',
            headers: { ETag: ETAG, Location: { description: 'The new record.', schema: { type: 'string' } } },
            content: json(ref(names.record)),
          },
        },
        mergeCodes(
          WRITE_BODY,
          { 403: ['forbidden.record_scope'] },
          countryCodes,
          resident ? { 400: ['residency.country_mismatch', 'residency.country_ambiguous'] } : {},
        ),
        {
          parameters: countryParameter(false),
          requestBody: { required: true, content: json(ref(names.create)) },
        },
      ),
    };
    paths['/batch'] = {
      post: batchOperation(operation, resource, names, options.maxBatchRecords, {
        parameters: countryParameter(false),
        codes: mergeCodes(
          countryCodes,
          resident ? { 400: ['residency.country_mismatch', 'residency.country_ambiguous'] } : {},
        ),
      }),
    };
    if (state.softDelete) {
      paths['/trash'] = { get: list('trash', `List trashed ${resource}`, listRefs) };
      paths['/trash/{id}/restore'] = {
        parameters: itemParameters,
        post: operation(
          'restore',
          'restore',
          'Restore a trashed record',
          record,
          mergeCodes(recordMissing, IF_MATCH_CODES, CONCURRENT),
          { parameters: [ifMatch] },
        ),
      };
      paths['/trash/{id}'] = {
        parameters: itemParameters,
        delete: operation(
          'purge',
          'purge',
          'Delete a trashed record for good',
          { 204: { description: 'Purged.' } },
          mergeCodes(recordMissing, IF_MATCH_CODES, CONCURRENT),
          { parameters: [ifMatch] },
        ),
      };
    }
    const uniqueFields = readable
      .filter((c) => c.field.path !== compiler.idField && c.operators.includes('eq') && !c.encrypted)
      .map((c) => c.field.path);
    if (uniqueFields.length > 0) {
      paths['/unique/{field}'] = {
        parameters: [{ name: 'field', in: 'path', required: true, schema: { type: 'string', enum: uniqueFields } }],
        get: operation(
          'list',
          'unique',
          `Distinct values of a field among the ${resource} you may see`,
          {
            200: {
              description: `At most ${options.maxUniqueValues ?? 1000} values.`,
              content: json({
                type: 'object',
                properties: { field: { type: 'string' }, values: { type: 'array' } },
                required: ['field', 'values'],
                additionalProperties: false,
              }),
            },
          },
          listCodes,
          { parameters: onlyFilters },
        ),
      };
    }
    const searchKeys = readable.filter((c) => c.operators.includes('in')).map((c) => c.field.path);
    if (searchKeys.length > 0) {
      const maxValues = options.maxSearchValues ?? 10_000;
      paths['/search/{key}'] = {
        parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string', enum: searchKeys } }],
        post: operation(
          'list',
          'search',
          `The ${resource} whose key is any of a list of values`,
          {
            200: {
              description: `At most ${maxValues} records; \`truncated\` when more matched.`,
              content: json({
                type: 'object',
                properties: { items: { type: 'array', items: ref(names.record) }, truncated: { type: 'boolean' } },
                required: ['items', 'truncated'],
                additionalProperties: false,
              }),
            },
          },
          mergeCodes({ 400: ['validation.body', 'filter.invalid'] }, listCodes, BODY_CODES),
          {
            parameters: onlyFilters,
            requestBody: {
              required: true,
              description: "Values of the key, of the key's type.",
              content: json({
                type: 'array',
                items: { type: ['string', 'number', 'boolean'] },
                minItems: 1,
                maxItems: maxValues,
              }),
            },
          },
        ),
      };
    }
    for (const path of options.staticPathFilters ?? []) {
      const capability = readable.find((c) => c.field.path === path);
      if (!capability?.operators.includes('eq')) continue;
      paths[`/${path}/{value}`] = {
        parameters: [{ name: 'value', in: 'path', required: true, schema: scalarSchema(capability.field.type) }],
        get: list(`by.${path}`, `List ${resource} by ${path}`, listRefs),
      };
    }
    if (options.history) {
      paths['/{id}/history'] = {
        parameters: itemParameters,
        get: operation(
          'history',
          'history',
          "A record's past states, newest first, as you may see them",
          {
            200: {
              description: 'Changes.',
              content: json({
                type: 'object',
                properties: { items: { type: 'array', items: { type: 'object' } } },
                required: ['items'],
              }),
            },
          },
          recordMissing,
        ),
      };
    }
    if (resident) {
      const field = resident.countryField;
      const country = { type: 'string', pattern: '^[a-z]{2}$' } as const;
      paths['/{id}/move'] = {
        parameters: itemParameters,
        post: operation(
          'update',
          'move',
          `Move a ${resource} record to another country (written there before it is deleted here)`,
          record,
          mergeCodes(recordMissing, IF_MATCH_CODES, CONCURRENT, undecryptable, BODY_CODES, {
            400: [
              'residency.country_required',
              'residency.unknown_country',
              'residency.same_country',
              'validation.body',
            ],
            403: ['forbidden.update_field', 'forbidden.record_scope'],
          }),
          {
            requestBody: {
              required: true,
              content: json({
                type: 'object',
                properties: { [field]: country },
                required: [field],
                additionalProperties: false,
              }),
            },
          },
        ),
      };
    }
    if (options.attachments)
      Object.assign(
        paths,
        attachmentPaths(
          (action, id, summary, success, codes, extra) =>
            operation(action, id, summary, success, mergeCodes(codes, located), extra),
          resource,
          itemParameters,
        ),
      );
    const pathKeys = readable.filter((c) => c.operators.includes('eq')).map((c) => c.field.path);
    if ((options.dynamicPathFilter ?? true) && pathKeys.length > 0) {
      paths['/{searchKey}/{searchValue}'] = {
        parameters: [
          { name: 'searchKey', in: 'path', required: true, schema: { type: 'string', enum: pathKeys } },
          { name: 'searchValue', in: 'path', required: true, schema: { type: 'string' } },
        ],
        get: list('by', `List ${resource} whose searchKey field equals searchValue`, listRefs),
      };
    }
    const one: OpenApiPathItem = {
      parameters: itemParameters,
      get: operation('read', 'get', `Read a ${resource} record`, record, recordMissing),
      patch: operation(
        'update',
        'update',
        `Change fields of a ${resource} record (JSON merge patch: null removes)`,
        record,
        mergeCodes(WRITE_BODY, IF_MATCH_CODES, recordMissing, keepsCountry, CONCURRENT, undecryptable, {
          403: ['forbidden.update_field', 'forbidden.record_scope'],
        }),
        { parameters: [ifMatch], requestBody: { required: true, content: json(ref(names.patch)) } },
      ),
      delete: operation(
        'delete',
        'delete',
        state.softDelete ? 'Move a record to the trash (`force=true`: delete for good)' : 'Delete a record',
        { 204: { description: 'Deleted.' } },
        mergeCodes(recordMissing, IF_MATCH_CODES, CONCURRENT, state.softDelete ? guardCodes('purge') : {}),
        {
          parameters: [
            ifMatch,
            ...(state.softDelete
              ? [
                  {
                    name: 'force',
                    in: 'query' as const,
                    description: 'Delete for good (needs the purge action too).',
                    schema: { type: 'boolean', default: false },
                  },
                ]
              : []),
          ],
        },
      ),
    };
    if (options.allowReplace) {
      one.put = operation(
        'update',
        'replace',
        `Replace a ${resource} record (fields you cannot see are kept)`,
        record,
        mergeCodes(WRITE_BODY, IF_MATCH_CODES, recordMissing, keepsCountry, CONCURRENT, undecryptable, {
          403: ['forbidden.update_field', 'forbidden.record_scope'],
        }),
        { parameters: [ifMatch], requestBody: { required: true, content: json(ref(names.create)) } },
      );
    }
    paths['/{id}'] = one;
    return {
      paths,
      schemas,
      parameters,
      tags: [{ name: resource, description: `The ${resource} records you may see, with your permissions applied.` }],
    };
  }
}

/** Builds one operation of the router: its action, id, summary, success responses and problem codes. */
type OperationBuilder = (
  action: CrudAction,
  id: string,
  summary: string,
  responses: Record<string, OpenApiResponse>,
  codes: ProblemCodes,
  extra?: Partial<OpenApiOperation>,
) => OpenApiOperation;

/** `POST /batch`: the create schema in a `records` list, all or nothing. */
function batchOperation(
  operation: OperationBuilder,
  resource: string,
  names: { record: string; create: string },
  maxRecords = DEFAULT_MAX_BATCH_RECORDS,
  located: { parameters: OpenApiParameter[]; codes: ProblemCodes },
): OpenApiOperation {
  const list = (items: JsonSchema): JsonSchema => ({
    type: 'object',
    properties: { records: { type: 'array', items, minItems: 1, maxItems: maxRecords } },
    required: ['records'],
    additionalProperties: false,
  });
  return operation(
    'create',
    'batch',
    `Create up to ${maxRecords} ${resource} records, all or nothing`,
    {
      201: {
        description: 'Every record was created; they are answered in the order sent.',
        content: json(list(ref(names.record))),
      },
    },
    mergeCodes(
      WRITE_BODY,
      { 400: ['validation.batch', 'validation.batch_size'], 403: ['forbidden.record_scope'], 409: ['conflict'] },
      located.codes,
    ),
    {
      description:
        'Every record is checked first; a 400 lists every problem of every record (`errors[].index` is the position of the record). Nothing is stored unless every record is: in one transaction, or, where the store has none (a standalone MongoDB, FerretDB, records of several countries), by deleting again what was stored when a later write fails, which an outage in between can leave undone (503).',
      parameters: located.parameters,
      requestBody: { required: true, content: json(list(ref(names.create))) },
    },
  );
}

/** The `attachments` routes: a file's metadata in JSON, its bytes as they were uploaded. */
function attachmentPaths(
  operation: OperationBuilder,
  resource: string,
  itemParameters: OpenApiParameter[],
): Record<string, OpenApiPathItem> {
  const file: JsonSchema = {
    type: 'object',
    properties: {
      fileId: { type: 'string' },
      filename: { type: 'string' },
      mimeType: { type: 'string' },
      size: { type: 'integer', minimum: 0 },
      sha256: { type: 'string', description: 'SHA-256 of the file, hex.' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
    required: ['fileId', 'filename', 'mimeType', 'size', 'sha256', 'createdAt', 'updatedAt'],
    additionalProperties: false,
  };
  const fileIdParameter: OpenApiParameter = { name: 'fileId', in: 'path', required: true, schema: { type: 'string' } };
  const missing: ProblemCodes = { 404: ['not_found.record', 'not_found.attachment'] };
  return {
    '/{id}/attachments': {
      parameters: itemParameters,
      get: operation(
        'read',
        'attachments.list',
        `The files of a ${resource} record`,
        {
          200: {
            description: 'Oldest first.',
            content: json({
              type: 'object',
              properties: { items: { type: 'array', items: file } },
              required: ['items'],
              additionalProperties: false,
            }),
          },
        },
        RECORD_MISSING,
      ),
      post: operation(
        'update',
        'attachments.add',
        `Attach a file to a ${resource} record`,
        {
          201: {
            description: 'Stored.',
            headers: { Location: { description: 'The new file.', schema: { type: 'string' } } },
            content: json(file),
          },
        },
        {
          400: ['validation.filename', 'validation.truncated'],
          404: ['not_found.record'],
          413: ['payload_too_large.attachment'],
          415: ['unsupported_media_type.attachment'],
        },
        {
          description:
            'The body is the file; `Content-Type` is its type and `Content-Disposition: attachment; filename="…"` names it.',
          parameters: [{ name: 'Content-Disposition', in: 'header', required: true, schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
        },
      ),
    },
    '/{id}/attachments/{fileId}': {
      parameters: [...itemParameters, fileIdParameter],
      get: operation(
        'read',
        'attachments.download',
        'Download a file',
        {
          200: {
            description: 'The file, with its type and `Content-Disposition: attachment`.',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
        },
        missing,
      ),
      patch: operation(
        'update',
        'attachments.update',
        'Rename or retype a file (its bytes stay)',
        { 200: { description: 'Changed.', content: json(file) } },
        mergeCodes(WRITE_BODY, missing, { 415: ['unsupported_media_type.attachment'] }),
        {
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              properties: { filename: { type: 'string' }, mimeType: { type: 'string' } },
              additionalProperties: false,
            }),
          },
        },
      ),
      delete: operation('update', 'attachments.delete', 'Delete a file', { 204: { description: 'Deleted.' } }, missing),
    },
  };
}

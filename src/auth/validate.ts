// Input checks for principals, groups and grants, shared by every store and the admin routes.
import type { FieldFilterRule, Grants, GroupRecord, PrincipalRecord } from '../contracts/principals.js';
import { ValidationError, type FieldProblem } from '../errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, tooDeepError } from '../json-depth.js';
import { validateEndpoint } from './endpoints.js';

export const ID_PATTERN = /^[A-Za-z0-9_.@:-]{1,128}$/;
const FIELD = /^[A-Za-z_$][A-Za-z0-9_.$-]{0,127}$/;
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_LIST = 256;

export function isSafeFieldName(field: unknown): field is string {
  return (
    typeof field === 'string' &&
    FIELD.test(field) &&
    !field.startsWith('$') &&
    !field.split('.').some((segment) => FORBIDDEN_SEGMENTS.has(segment) || segment.startsWith('$'))
  );
}

function checkFieldList(problems: FieldProblem[], name: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.length > MAX_LIST) {
    problems.push({ field: name, message: `must be a list of at most ${MAX_LIST} field names` });
    return;
  }
  value.forEach((field, index) => {
    if (!isSafeFieldName(field)) problems.push({ field: `${name}.${index}`, message: 'is not a valid field name' });
  });
}

function isGrantValue(value: unknown): boolean {
  return (
    (typeof value === 'string' && value.length <= 1024) ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'boolean'
  );
}

function checkFilter(problems: FieldProblem[], name: string, rule: FieldFilterRule): void {
  if (typeof rule !== 'object' || rule === null) {
    problems.push({ field: name, message: 'must be {"field": ..., "value": ...}' });
    return;
  }
  if (!isSafeFieldName(rule.field)) problems.push({ field: `${name}.field`, message: 'is not a valid field name' });
  const values = Array.isArray(rule.value) ? rule.value : [rule.value];
  if (values.length === 0 || values.length > MAX_LIST || !values.every(isGrantValue)) {
    problems.push({ field: `${name}.value`, message: 'must be a string, number, boolean or a non-empty list of them' });
  }
}

/** Problems with the grant fields of a principal or group (appended to `problems`). */
export function checkGrants(problems: FieldProblem[], grants: Grants): void {
  if (grants.permittedEndpoints !== undefined) {
    if (!Array.isArray(grants.permittedEndpoints) || grants.permittedEndpoints.length > MAX_LIST) {
      problems.push({ field: 'permittedEndpoints', message: `must be a list of at most ${MAX_LIST} endpoints` });
    } else {
      grants.permittedEndpoints.forEach((endpoint, index) => {
        const problem = validateEndpoint(endpoint);
        if (problem) problems.push({ field: `permittedEndpoints.${index}`, message: problem });
      });
    }
  }
  if (grants.filterFields !== undefined) {
    if (!Array.isArray(grants.filterFields) || grants.filterFields.length > MAX_LIST) {
      problems.push({ field: 'filterFields', message: `must be a list of at most ${MAX_LIST} filters` });
    } else {
      grants.filterFields.forEach((rule, index) => checkFilter(problems, `filterFields.${index}`, rule));
    }
  }
  checkFieldList(problems, 'excludeFields', grants.excludeFields);
  checkFieldList(problems, 'updateFieldsPermitted', grants.updateFieldsPermitted);
  checkFieldList(problems, 'updateFieldsRestricted', grants.updateFieldsRestricted);
  if (grants.admin !== undefined && typeof grants.admin !== 'boolean') {
    problems.push({ field: 'admin', message: 'must be true or false' });
  }
}

function checkId(problems: FieldProblem[], id: unknown): void {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    problems.push({ field: 'id', message: 'must be 1-128 characters of letters, digits and _ . @ : -' });
  }
}

export function validatePrincipal(record: PrincipalRecord): void {
  // Before anything walks the record: attributes are free-form, and stores copy them recursively.
  if (nestsDeeperThan(record, MAX_JSON_DEPTH)) throw tooDeepError(MAX_JSON_DEPTH, 'principal', 'attributes');
  const problems: FieldProblem[] = [];
  checkId(problems, record?.id);
  if (record?.type !== 'user' && record?.type !== 'oidcGroup') {
    problems.push({ field: 'type', message: 'must be user or oidcGroup' });
  }
  if (!Array.isArray(record?.groups) || record.groups.length > MAX_LIST) {
    problems.push({ field: 'groups', message: `must be a list of at most ${MAX_LIST} group ids` });
  } else {
    record.groups.forEach((group, index) => {
      if (typeof group !== 'string' || !ID_PATTERN.test(group)) {
        problems.push({ field: `groups.${index}`, message: 'is not a valid group id' });
      }
    });
  }
  for (const key of ['name', 'email'] as const) {
    const value = record?.[key];
    if (value !== undefined && (typeof value !== 'string' || value.length > 256)) {
      problems.push({ field: key, message: 'must be a string of at most 256 characters' });
    }
  }
  if (typeof record?.attributes !== 'object' || record.attributes === null || Array.isArray(record.attributes)) {
    problems.push({ field: 'attributes', message: 'must be an object' });
  } else {
    for (const key of Object.keys(record.attributes)) {
      if (!isSafeFieldName(key))
        problems.push({ field: `attributes.${key}`, message: 'is not a valid attribute name' });
    }
  }
  if (record?.quotas !== undefined) {
    if (typeof record.quotas !== 'object' || record.quotas === null) {
      problems.push({ field: 'quotas', message: 'must map action names to non-negative integers' });
    } else {
      for (const [action, limit] of Object.entries(record.quotas)) {
        if (!isSafeFieldName(action) || !Number.isSafeInteger(limit) || limit < 0) {
          problems.push({ field: `quotas.${action}`, message: 'must be a non-negative integer' });
        }
      }
    }
  }
  if (record && typeof record === 'object') checkGrants(problems, record);
  if (problems.length > 0) throw new ValidationError('Invalid principal.', { errors: problems });
}

export function validateGroup(record: GroupRecord): void {
  if (nestsDeeperThan(record, MAX_JSON_DEPTH)) throw tooDeepError(MAX_JSON_DEPTH, 'group');
  const problems: FieldProblem[] = [];
  checkId(problems, record?.id);
  for (const key of ['name', 'description'] as const) {
    const value = record?.[key];
    if (value !== undefined && (typeof value !== 'string' || value.length > 1024)) {
      problems.push({ field: key, message: 'must be a string of at most 1024 characters' });
    }
  }
  if (record && typeof record === 'object') checkGrants(problems, record);
  if (problems.length > 0) throw new ValidationError('Invalid group.', { errors: problems });
}

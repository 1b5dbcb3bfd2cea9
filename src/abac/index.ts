// The ABAC engine: policies, rules, checkers, the indexed policy set, the guard, caches and formats.
export * from './policy.js';
export * from './inquiry.js';
export * from './checkers.js';
export * from './policy-set.js';
export * from './guard.js';
export { resourceOf, type ResourceQuery, type UnfilterableRule } from './partial.js';
export * from './decision-cache.js';
export * from './explain.js';
export * from './policy-json.js';
export * from './mirror.js';
export { compileTagged, hasTags, MAX_REGEX_INPUT, type TaggedPattern } from './regex-syntax.js';
export { fromVaktJson, looksLikeVakt } from './vakt-json.js';
export {
  exactKey,
  prefixKey,
  indexModeFor,
  inquiryKeys,
  policyFieldKeys,
  storedKeys,
  type FieldKeys,
  type IndexMode,
} from './index-keys.js';
export * as rules from './rules/index.js';
export {
  defineRule,
  defaultRuleRegistry,
  createRuleRegistry,
  RuleRegistry,
  RuleArgumentError,
  UnfitValueError,
  isRule,
  type Rule,
  type RuleDefinition,
  type RuleJson,
  type IndexHint,
} from './rules/index.js';

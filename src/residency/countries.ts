// Data residency in the core: country codes, and the countries a typed filter confines a query to.
import type { FilterNode } from '../filter/ast.js';

// The ICU region names Node ships: a code without a name is no country, so no list is kept here.
const regions = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
const CODE = /^[a-z]{2}$/;

/**
 * Whether `value` is an ISO 3166-1 alpha-2 country code in lower case (`de`, `us`), the form InCountry's
 * `country` argument takes. Upper case is refused rather than folded: a record's country is never guessed.
 */
export function isCountryCode(value: unknown): value is string {
  return (
    typeof value === 'string' && CODE.test(value) && value !== 'zz' && regions.of(value.toUpperCase()) !== undefined
  );
}

/**
 * The countries every record matching `where` must be in, read from conditions on `field` (`field = x`,
 * `field in [...]`), intersected across an AND and united across an OR; `undefined` when the filter does not
 * confine the field, i.e. the query is across every country. An empty set: no record can match.
 */
export function countriesOf(where: FilterNode, field: string): ReadonlySet<string> | undefined {
  switch (where.kind) {
    case 'cond':
      if (where.field !== field) return undefined;
      if (where.op === 'eq') return new Set(typeof where.value === 'string' ? [where.value] : []);
      if (where.op === 'in') return new Set(where.values.filter((value) => typeof value === 'string'));
      return undefined;
    case 'and': {
      let found: Set<string> | undefined;
      for (const node of where.nodes) {
        const confined = countriesOf(node, field);
        if (confined === undefined) continue;
        found = found === undefined ? new Set(confined) : new Set([...found].filter((code) => confined.has(code)));
      }
      return found;
    }
    case 'or': {
      const found = new Set<string>();
      for (const node of where.nodes) {
        const confined = countriesOf(node, field);
        if (confined === undefined) return undefined;
        for (const code of confined) found.add(code);
      }
      return found;
    }
    default:
      return undefined;
  }
}

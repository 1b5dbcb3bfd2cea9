// Variables of data residency: the records store of each country.
import { isCountryCode } from '../../residency/countries.js';
import { defineVariables, type VariableSpec } from '../variables.js';

/** Where a country's records live: an embedded memory store, or a MongoDB server (its connection URL). */
export type ResidencyTarget = 'memory' | `mongodb://${string}` | `mongodb+srv://${string}`;

/** Country code (or `*`: every other country) → target. */
export type ResidencyStores = Readonly<Record<string, ResidencyTarget>>;

// Items split at a comma that starts `name=`: a MongoDB URL lists its hosts with commas (h1:27017,h2:27017).
// Any name, not only a valid code, so that `de=memory,DE=memory` blames "DE" rather than de's target.
const ITEM_START = /,(?=\s*(?:[A-Za-z_][\w-]{0,31}|\*)\s*=)/;

/** Parses `de=mongodb://…,us=mongodb://…,*=memory`. Messages name the country, never a URL (it may hold a password). */
export function parseResidencyStores(raw: string): ResidencyStores {
  const stores: Record<string, ResidencyTarget> = {};
  for (const item of raw.split(ITEM_START)) {
    const at = item.indexOf('=');
    const country = (at < 0 ? item : item.slice(0, at)).trim();
    const target = at < 0 ? '' : item.slice(at + 1).trim();
    if (country !== '*' && !isCountryCode(country as unknown)) {
      throw new Error(
        `has "${country.slice(0, 16)}", which is not a lower-case ISO 3166-1 alpha-2 country code or "*" (write de=mongodb://…,*=memory)`,
      );
    }
    if (Object.hasOwn(stores, country)) throw new Error(`names "${country}" twice`);
    if (target === 'memory') {
      stores[country] = 'memory';
      continue;
    }
    // The scheme only: a seed list (h1:27017,h2:27017) is no WHATWG URL; the driver checks the rest at start-up.
    if (!/^mongodb(\+srv)?:\/\/\S+$/.test(target)) {
      throw new Error(`must give "${country}" memory or a mongodb:// URL`);
    }
    stores[country] = target as ResidencyTarget;
  }
  return Object.freeze(stores);
}

export const residencyVariables = defineVariables({
  RESIDENCY_STORES: {
    type: 'string',
    secret: true,
    accepts: 'comma-separated COUNTRY=memory or COUNTRY=mongodb://… (COUNTRY: de, us, … or * for the others)',
    description:
      'The records store of each country for `stores.residentRecords(...)` (data residency, docs/residency.md): lower-case ISO 3166-1 alpha-2 codes, `*` for every other country (leave it out to refuse them), each on `memory` or its own MongoDB server or database. Unset: every country on memory (`*=memory`).',
    parse: parseResidencyStores,
  } satisfies VariableSpec<ResidencyStores>,
});

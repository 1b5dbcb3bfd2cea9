// ResidentRecordStore: each record lives in the records store of its country; every call names the country.
import type { NewRecord, PreparedRecord, RecordQuery, RecordStore, StoredRecord } from '../src/contracts/records.js';
import { DECRYPTION_ERROR_FIELD, DELETED_FIELD, VERSION_FIELD } from '../src/contracts/records.js';
import type { MoveOptions, ResidencyQueryOptions, ResidentRecords } from '../src/contracts/residency.js';
import { ConfigError, ConflictError, ValidationError } from '../src/errors.js';
import { and, matchAll, type FilterNode } from '../src/filter/ast.js';
import { countriesOf, isCountryCode } from '../src/residency/countries.js';
import { recordComparator } from './record-order.js';

/** The store of every country not listed on its own. */
export const OTHER_COUNTRIES = '*';

export interface ResidentRecordStoreOptions {
  /**
   * The records store of each country, by lower-case ISO 3166-1 alpha-2 code (`de`, `us`), and under `*` the
   * store that holds every other country's records (without `*`, other countries are refused). Every store
   * has the same fields and id type. Required.
   */
  stores: Readonly<Record<string, RecordStore>>;
  /** The string field that holds each record's country. Default `country`. */
  field?: string;
}

function countryProblem(field: string, code: string, message: string): ValidationError {
  return new ValidationError(message, { code, errors: [{ field, code, message }] });
}

function condition(field: string, countries: readonly string[] | undefined): FilterNode {
  if (countries === undefined) return matchAll;
  return countries.length === 1
    ? { kind: 'cond', op: 'eq', field, value: countries[0]! }
    : { kind: 'cond', op: 'in', field, values: [...countries] };
}

/**
 * What every store of a resident set answers alike, as they share one schema, id type and blind index: the
 * views and the set itself answer it from one template store.
 */
abstract class SameAsTemplate {
  readonly #template: RecordStore;

  constructor(template: RecordStore) {
    this.#template = template;
  }

  get backend() {
    return this.#template.backend;
  }
  get schema() {
    return this.#template.schema;
  }
  get idType() {
    return this.#template.idType;
  }
  get blindIndex() {
    return this.#template.blindIndex;
  }

  newId(): string {
    return this.#template.newId();
  }
}

/**
 * One store seen through some countries: reads see only their records, writes accept only records of
 * them. A country with a store of its own holds only its records anyway; the `*` store holds several
 * countries', so the condition is what keeps one country from reading another's there.
 */
class CountryView extends SameAsTemplate implements RecordStore {
  readonly #store: RecordStore;
  readonly #field: string;
  readonly #countries: readonly string[] | undefined;
  readonly #where: FilterNode;

  /** `countries` undefined: every record of the store (a read across all countries). */
  constructor(store: RecordStore, field: string, countries?: readonly string[]) {
    super(store);
    this.#store = store;
    this.#field = field;
    this.#countries = countries;
    this.#where = condition(field, countries);
  }

  /** A record without a country gets the view's (the caller's declared country). */
  prepare(record: Record<string, unknown>): Promise<PreparedRecord> {
    const withCountry =
      record[this.#field] === undefined && this.#countries?.length === 1
        ? { ...record, [this.#field]: this.#countries[0] }
        : record;
    return this.#store.prepare(withCountry);
  }

  find(query: RecordQuery): Promise<StoredRecord[]> {
    return this.#store.find({ ...query, where: and(this.#where, query.where) });
  }

  count(where: FilterNode): Promise<number> {
    return this.#store.count(and(this.#where, where));
  }

  distinct(field: string, where: FilterNode, limit: number): Promise<unknown[]> {
    return this.#store.distinct(field, and(this.#where, where), limit);
  }

  get(id: string, where?: FilterNode): Promise<StoredRecord | undefined> {
    return this.#store.get(id, where ? and(this.#where, where) : this.#where);
  }

  async insert(id: string, record: Record<string, unknown>): Promise<StoredRecord> {
    this.#check(record);
    return this.#store.insert(id, record);
  }

  async insertMany(records: readonly NewRecord[]): Promise<StoredRecord[]> {
    for (const { record } of records) this.#check(record);
    return this.#store.insertMany(records);
  }

  async replace(
    id: string,
    expectedVersion: number,
    record: Record<string, unknown>,
  ): Promise<StoredRecord | undefined> {
    this.#check(record);
    return this.#store.replace(id, expectedVersion, record);
  }

  async remove(id: string, expectedVersion?: number): Promise<boolean> {
    // By id alone the shared `*` store would delete another country's record: read it through the view first.
    const current = await this.get(id);
    if (!current || (expectedVersion !== undefined && current._version !== expectedVersion)) return false;
    return this.#store.remove(id, current._version);
  }

  #check(record: Record<string, unknown>): void {
    const country = record[this.#field];
    if (typeof country === 'string' && this.#countries?.includes(country)) return;
    throw countryProblem(
      this.#field,
      'residency.country_changed',
      `A record's "${this.#field}" is where it is stored and cannot change by a write; move the record instead.`,
    );
  }
}

/** A read-only view over several stores: each queried alone, their pages merged in the query's order. */
class FanOutView extends SameAsTemplate implements RecordStore {
  readonly #views: readonly RecordStore[];
  readonly #first: RecordStore;

  /** `template` answers for the schema and ids; with no views, every query matches nothing. */
  constructor(views: readonly RecordStore[], template: RecordStore) {
    super(template);
    this.#views = views;
    this.#first = template;
  }

  prepare(record: Record<string, unknown>): Promise<PreparedRecord> {
    return this.#first.prepare(record);
  }

  /**
   * Every store returns its first `skip + limit` matches in the query's order (the sort ends with the id, so
   * it is total and a keyset cursor in `where` means the same in each); the merged list, each id once,
   * holds the page. A record caught in both stores by a move shows once.
   */
  async find(query: RecordQuery): Promise<StoredRecord[]> {
    const skip = query.skip ?? 0;
    const { skip: _skip, ...rest } = query;
    const pages = await Promise.all(this.#views.map((view) => view.find({ ...rest, limit: skip + query.limit })));
    const merged = pages.flat().sort(recordComparator(query.sort));
    const seen = new Set<string>();
    const unique = merged.filter((record) => !seen.has(record.id) && seen.add(record.id));
    return unique.slice(skip, skip + query.limit);
  }

  async count(where: FilterNode): Promise<number> {
    const counts = await Promise.all(this.#views.map((view) => view.count(where)));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  async distinct(field: string, where: FilterNode, limit: number): Promise<unknown[]> {
    const lists = await Promise.all(this.#views.map((view) => view.distinct(field, where, limit)));
    const seen = new Set<unknown>();
    const values: unknown[] = [];
    for (const value of lists.flat()) {
      const key = value instanceof Date ? `d:${value.getTime()}` : value;
      if (seen.has(key)) continue;
      seen.add(key);
      values.push(value);
    }
    const byValue = recordComparator([{ field: 'v', direction: 1 }]);
    return values.sort((a, b) => byValue({ v: a }, { v: b })).slice(0, limit);
  }

  async get(id: string, where?: FilterNode): Promise<StoredRecord | undefined> {
    for (const view of this.#views) {
      const found = await view.get(id, where);
      if (found) return found;
    }
    return undefined;
  }

  insert(): Promise<StoredRecord> {
    return Promise.reject(
      new TypeError('a query across countries is read-only; write through the store of one country'),
    );
  }

  insertMany(): Promise<StoredRecord[]> {
    return this.insert().then(() => []);
  }

  replace(): Promise<StoredRecord | undefined> {
    return this.insert();
  }

  remove(): Promise<boolean> {
    return Promise.reject(
      new TypeError('a query across countries is read-only; write through the store of one country'),
    );
  }
}

/**
 * Routes each record to the records store of its country (InCountry's residency): a country comes from the
 * record's country field or is named by the caller, never guessed. As a plain `RecordStore`, writes go by
 * the record's field, reads and queries by the country their filter names (one, or a `ValidationError`
 * naming the field); `forQuery(where, { fanOut: true })` reads several and merges their pages.
 */
export class ResidentRecordStore extends SameAsTemplate implements ResidentRecords {
  readonly countryField: string;
  readonly countries: readonly string[];
  readonly #stores: ReadonlyMap<string, RecordStore>;
  readonly #views = new Map<string, CountryView>();
  readonly #first: RecordStore;

  constructor(options: ResidentRecordStoreOptions) {
    if (typeof options?.stores !== 'object' || options.stores === null) {
      throw new ConfigError('ResidentRecordStore.stores', 'must map country codes to records stores');
    }
    const entries = Object.entries(options.stores);
    if (entries.length === 0) throw new ConfigError('ResidentRecordStore.stores', 'must name at least one country');
    const field = options.field ?? 'country';
    const first = entries[0]![1];
    for (const [country, store] of entries) {
      const name = `ResidentRecordStore.stores.${country}`;
      if (country !== OTHER_COUNTRIES && !isCountryCode(country)) {
        throw new ConfigError(name, 'is not a lower-case ISO 3166-1 alpha-2 country code (e.g. "de") or "*"');
      }
      if (typeof store?.find !== 'function' || typeof store.replace !== 'function') {
        throw new ConfigError(name, 'must implement the RecordStore contract');
      }
      if (store.idType !== first.idType) throw new ConfigError(name, `has ${store.idType} ids, not ${first.idType}`);
      const spec = store.schema.field(field);
      if (!spec || spec.type !== 'string' || spec.array || !spec.filterable) {
        throw new ConfigError(
          'ResidentRecordStore.field',
          `"${field}" must be a filterable string field of every store`,
        );
      }
      const fields = (schema: RecordStore['schema']) =>
        JSON.stringify([...schema.fields.values()].map((entry) => [entry.path, entry.type, entry.array]));
      if (fields(store.schema) !== fields(first.schema)) {
        throw new ConfigError(name, "must have the same fields as the other countries' stores");
      }
    }
    const stores = new Map(entries);
    const template = stores.get(OTHER_COUNTRIES) ?? first;
    super(template);
    this.countryField = field;
    this.#stores = stores;
    this.countries = Object.freeze(entries.map(([country]) => country));
    this.#first = template;
  }

  async init(): Promise<void> {
    for (const store of new Set(this.#stores.values())) await store.init?.();
  }

  async close(): Promise<void> {
    for (const store of new Set(this.#stores.values())) await store.close?.();
  }

  in(country: unknown): RecordStore {
    const known = typeof country === 'string' ? this.#views.get(country) : undefined;
    if (known) return known;
    const store = this.#storeOf(country);
    const view = new CountryView(store, this.countryField, [country as string]);
    this.#views.set(country as string, view);
    return view;
  }

  forQuery(where: FilterNode, options: ResidencyQueryOptions = {}): RecordStore {
    const named = countriesOf(where, this.countryField);
    if (named?.size === 1) return this.in([...named][0]);
    // Countries that contradict each other (`country=de` and a permission filter `country=us`): no store is asked.
    if (named?.size === 0) return new FanOutView([], this.#first);
    if (!options.fanOut) {
      throw countryProblem(
        this.countryField,
        'residency.country_required',
        named === undefined
          ? `Name the country of the records: "${this.countryField}" (e.g. ${this.countryField}=de).`
          : `Name one country in "${this.countryField}": this route does not query several countries at once.`,
      );
    }
    if (named === undefined) {
      const views = [...new Set(this.#stores.values())].map((store) => new CountryView(store, this.countryField));
      return new FanOutView(views, this.#first);
    }
    // Countries sharing the `*` store are read by one query there.
    const byStore = new Map<RecordStore, string[]>();
    for (const country of named) {
      const store = this.#storeOf(country);
      byStore.set(store, [...(byStore.get(store) ?? []), country]);
    }
    const views = [...byStore].map(([store, countries]) => new CountryView(store, this.countryField, countries));
    return views.length === 1 ? views[0]! : new FanOutView(views, this.#first);
  }

  async move(id: string, from: string, to: string, options: MoveOptions = {}): Promise<StoredRecord | undefined> {
    const source = this.in(from);
    const target = this.in(to);
    if (from === to) {
      throw countryProblem(this.countryField, 'residency.same_country', `The record is already in "${to}".`);
    }
    const existing = await source.get(id);
    if (!existing) return undefined;
    if (options.expectedVersion !== undefined && existing._version !== options.expectedVersion) return undefined;
    if (existing[DECRYPTION_ERROR_FIELD] !== undefined) {
      throw new ConflictError('The record cannot be decrypted with the configured keys, so it cannot be moved.', {
        code: 'conflict.undecryptable',
      });
    }
    const {
      id: _id,
      [VERSION_FIELD]: _version,
      [DELETED_FIELD]: _deleted,
      [DECRYPTION_ERROR_FIELD]: _error,
      ...fields
    } = existing;
    // The fields as the source store typed them: the stores share one schema, so they need no new casting.
    const moved = { ...(options.update ? options.update({ ...fields }) : fields), [this.countryField]: to };
    // Both countries kept in one store (the `*` store): the record is already there, so the move is one
    // conditional write of its country field, which takes it out of the old country's view into the new one's.
    if (this.#storeOf(from) === this.#storeOf(to)) return this.#storeOf(to).replace(id, existing._version, moved);
    // Write first: a failure between the two steps leaves the record in both countries, never in neither.
    const written = await target.insert(id, moved);
    if (await source.remove(id, existing._version)) return written;
    // Changed or deleted meanwhile: undo the copy, so the record is where the other write left it.
    await target.remove(id, written._version);
    return undefined;
  }

  /** By the record's country; a missing or unknown one is a problem on the field, like any bad value. */
  async prepare(record: Record<string, unknown>): Promise<PreparedRecord> {
    const country = record[this.countryField];
    try {
      return await this.in(country).prepare(record);
    } catch (error) {
      if (!(error instanceof ValidationError) || !error.errors) throw error;
      const prepared = await this.#first.prepare(record);
      const others = prepared.problems.filter((problem) => problem.field !== this.countryField);
      return { record: prepared.record, problems: [...error.errors, ...others] };
    }
  }

  async find(query: RecordQuery): Promise<StoredRecord[]> {
    return this.forQuery(query.where).find(query);
  }

  async count(where: FilterNode): Promise<number> {
    return this.forQuery(where).count(where);
  }

  async distinct(field: string, where: FilterNode, limit: number): Promise<unknown[]> {
    return this.forQuery(where).distinct(field, where, limit);
  }

  async get(id: string, where: FilterNode = matchAll): Promise<StoredRecord | undefined> {
    return this.forQuery(where).get(id, where);
  }

  async insert(id: string, record: Record<string, unknown>): Promise<StoredRecord> {
    return this.in(record[this.countryField]).insert(id, record);
  }

  /**
   * All or nothing across countries: each country's records through its store's `insertMany` (all or
   * nothing there), and when a later country's fail, the earlier countries' records are deleted again.
   */
  async insertMany(records: readonly NewRecord[]): Promise<StoredRecord[]> {
    const byCountry = new Map<RecordStore, NewRecord[]>();
    for (const entry of records) {
      const view = this.in(entry.record[this.countryField]);
      byCountry.set(view, [...(byCountry.get(view) ?? []), entry]);
    }
    const stored = new Map<string, StoredRecord>();
    const done: [RecordStore, StoredRecord[]][] = [];
    try {
      for (const [view, group] of byCountry) {
        const created = await view.insertMany(group);
        done.push([view, created]);
        for (const record of created) stored.set(record.id, record);
      }
    } catch (error) {
      for (const [view, created] of done) {
        for (const record of created) await view.remove(record.id, record._version).catch(() => false);
      }
      throw error;
    }
    return records.map(({ id }) => stored.get(id)!);
  }

  async replace(
    id: string,
    expectedVersion: number,
    record: Record<string, unknown>,
  ): Promise<StoredRecord | undefined> {
    return this.in(record[this.countryField]).replace(id, expectedVersion, record);
  }

  /**
   * By id alone no country is named: each country's store is asked in turn until one deletes it. The CRUD
   * router never calls this; it deletes through `in(country)`.
   */
  async remove(id: string, expectedVersion?: number): Promise<boolean> {
    for (const store of new Set(this.#stores.values())) if (await store.remove(id, expectedVersion)) return true;
    return false;
  }

  #storeOf(country: unknown): RecordStore {
    if (country === undefined || country === null || country === '') {
      throw countryProblem(
        this.countryField,
        'residency.country_required',
        `Name the country of the record: "${this.countryField}" (e.g. ${this.countryField}=de).`,
      );
    }
    const text = typeof country === 'string' ? country.slice(0, 16) : typeof country;
    if (!isCountryCode(country)) {
      const lower = typeof country === 'string' ? country.toLowerCase() : '';
      const hint = isCountryCode(lower) ? ` (did you mean "${lower}"?)` : '';
      throw countryProblem(
        this.countryField,
        'residency.unknown_country',
        `"${text}" is not a lower-case ISO 3166-1 alpha-2 country code${hint}.`,
      );
    }
    const store = this.#stores.get(country) ?? this.#stores.get(OTHER_COUNTRIES);
    if (!store) {
      throw countryProblem(
        this.countryField,
        'residency.unknown_country',
        `No store keeps records of "${country}" (configured: ${this.countries.join(', ')}).`,
      );
    }
    return store;
  }
}

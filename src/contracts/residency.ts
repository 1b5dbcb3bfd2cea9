// The resident records contract: a records store that keeps each record in the store of its country.
import type { FilterNode } from '../filter/ast.js';
import type { RecordStore, StoredRecord } from './records.js';

/** Options of `ResidentRecords.forQuery`. */
export interface ResidencyQueryOptions {
  /**
   * Whether a query that names no single country may read several countries' stores and merge their pages.
   * Default false: such a query is a `ValidationError` naming the country field.
   */
  fanOut?: boolean;
}

/** Options of `ResidentRecords.move`. */
export interface MoveOptions {
  /** Move only while the record is still at this version. */
  expectedVersion?: number;
  /** Changes the record's fields as it moves (e.g. its update time); gets and returns the fields without id. */
  update?: (fields: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * A records store that routes every record to the store of its country (`ResidentRecordStore` from
 * `portcullis/stores`). As a plain `RecordStore` it routes by the record's country field and by the country
 * its filters name; the CRUD router asks it for the store of the country a request names.
 */
export interface ResidentRecords extends RecordStore {
  /** The field that holds each record's country code. */
  readonly countryField: string;
  /** The countries with a store of their own, and `*` when the others share a default store. */
  readonly countries: readonly string[];
  /**
   * The store of one country: it reads only that country's records and writes only records of that country
   * (a record without the field gets it). A code that is no country, or one without a store, is a
   * `ValidationError` naming the country field.
   */
  in(country: unknown): RecordStore;
  /**
   * The store for a query: the one country `where` confines records to, or, with `fanOut`, a read-only view
   * over the stores of the countries it names (every store when it names none) that merges their pages.
   * Otherwise a `ValidationError` naming the country field.
   */
  forQuery(where: FilterNode, options?: ResidencyQueryOptions): RecordStore;
  /**
   * Moves a record to another country: writes it to the new country's store, then deletes it from the old
   * one, and undoes the write when the delete finds the record changed. Undefined when the record is not in
   * `from` (or not at `expectedVersion`).
   */
  move(id: string, from: string, to: string, options?: MoveOptions): Promise<StoredRecord | undefined>;
}

/** Whether a records store is resident (routes records by country). */
export function isResident(store: RecordStore): store is ResidentRecords {
  return typeof (store as Partial<ResidentRecords>).forQuery === 'function' && 'countryField' in store;
}

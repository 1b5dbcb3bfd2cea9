// The result of compiling one list query; its MongoDB filter, sort and predicate are built on first use.
import type { FilterNode, SortKey } from './ast.js';
import type { CursorCodec } from './cursor.js';
import { readPath, toPredicate, type Predicate } from './matcher.js';
import { toMongoFilter, toMongoSort, type MongoFilter } from './mongo.js';
import type { ParsedListQuery } from './query.js';

export interface CompiledListQuery extends ParsedListQuery {
  /** Everything that selects records: query, path and permission filters (no cursor). */
  where: FilterNode;
  /** `where` plus the cursor's keyset condition: what this page reads. */
  page: FilterNode;
  /** The sort, ending with the id tie-breaker. */
  sortKeys: SortKey[];
  /** True when the caller asked for `count=true`. */
  count: boolean;
  /** The cursor that continues after `last` (the last item of this page, unprojected). */
  nextCursor(last: Record<string, unknown>): string;
}

/** What a cursor is bound to: the resource, the sort, the caller's view and every condition of the query. */
export function bindingOf(resource: string, sortKeys: readonly SortKey[], view: string, where: FilterNode): string {
  return JSON.stringify([resource, sortKeys, view, where]);
}

export class CompiledQuery implements CompiledListQuery {
  readonly where: FilterNode;
  readonly page: FilterNode;
  readonly sortKeys: SortKey[];
  readonly limit: number;
  readonly count: boolean;
  readonly cursor?: string;
  readonly offset?: number;
  readonly projection?: string[];
  readonly #codec: CursorCodec;
  readonly #resource: string;
  readonly #view: string;
  #binding: string | undefined;
  #filter: MongoFilter | undefined;
  #sort: Record<string, 1 | -1> | undefined;
  #predicate: Predicate | undefined;

  constructor(
    where: FilterNode,
    page: FilterNode,
    sortKeys: SortKey[],
    limit: number,
    count: boolean,
    cursor: string | undefined,
    offset: number | undefined,
    projection: string[] | undefined,
    codec: CursorCodec,
    resource: string,
    view: string,
    binding: string | undefined,
  ) {
    this.where = where;
    this.page = page;
    this.sortKeys = sortKeys;
    this.limit = limit;
    this.count = count;
    if (cursor !== undefined) this.cursor = cursor;
    if (offset !== undefined) this.offset = offset;
    if (projection !== undefined) this.projection = projection;
    this.#codec = codec;
    this.#resource = resource;
    this.#view = view;
    this.#binding = binding;
  }

  get filter(): MongoFilter {
    this.#filter ??= toMongoFilter(this.page);
    return this.#filter;
  }

  get sort(): Record<string, 1 | -1> {
    this.#sort ??= toMongoSort(this.sortKeys);
    return this.#sort;
  }

  matches(record: Record<string, unknown>): boolean {
    this.#predicate ??= toPredicate(this.page);
    return this.#predicate(record);
  }

  nextCursor(last: Record<string, unknown>): string {
    const values = this.sortKeys.map((key) => {
      const value = readPath(last, key.field.split('.'));
      return typeof value === 'symbol' ? null : value;
    });
    this.#binding ??= bindingOf(this.#resource, this.sortKeys, this.#view, this.where);
    return this.#codec.encode(values, this.#binding);
  }

  toJSON(): Record<string, unknown> {
    return {
      filter: this.filter,
      sort: this.sort,
      limit: this.limit,
      offset: this.offset,
      projection: this.projection,
    };
  }
}

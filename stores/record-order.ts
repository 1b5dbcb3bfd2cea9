// MongoDB's sort order for in-memory records: null and missing first, then by type, then by value.
import type { SortKey } from '../src/filter/ast.js';
import { kindOf, readPath } from '../src/filter/index.js';

const rank: Record<string, number> = { null: 1, number: 2, string: 3, other: 4, objectId: 7, boolean: 8, date: 9 };

function sortable(value: unknown): unknown {
  return typeof value === 'symbol' ? null : value;
}

export function compareForSort(a: unknown, b: unknown): number {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) return rank[ka]! - rank[kb]!;
  if (ka === 'null' || ka === 'other') return 0;
  const pa =
    ka === 'date'
      ? (a as Date).getTime()
      : ka === 'objectId'
        ? String((a as { toHexString?(): string }).toHexString?.() ?? (a as { hex: string }).hex)
        : a;
  const pb =
    kb === 'date'
      ? (b as Date).getTime()
      : kb === 'objectId'
        ? String((b as { toHexString?(): string }).toHexString?.() ?? (b as { hex: string }).hex)
        : b;
  return (pa as number) < (pb as number) ? -1 : (pa as number) > (pb as number) ? 1 : 0;
}

/** A comparator for records by sort keys (dotted paths). */
export function recordComparator(
  sort: readonly SortKey[],
): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  const keys = sort.map((key) => ({ segments: key.field.split('.'), direction: key.direction }));
  return (a, b) => {
    for (const key of keys) {
      const order = compareForSort(sortable(readPath(a, key.segments)), sortable(readPath(b, key.segments)));
      if (order !== 0) return order * key.direction;
    }
    return 0;
  };
}

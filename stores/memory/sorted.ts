// Sorted arrays for memory stores: where an item goes so the order stays, found by binary search.

/** Inserts `item` after every element that compares ≤ it (stable for equal keys); returns its index. */
export function insertSorted<T>(list: T[], item: T, compare: (a: T, b: T) => number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(list[middle]!, item) <= 0) low = middle + 1;
    else high = middle;
  }
  list.splice(low, 0, item);
  return low;
}

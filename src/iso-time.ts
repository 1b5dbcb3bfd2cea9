// ISO 8601 UTC timestamps, formatted by hand: Date#toISOString costs about 1 µs on Node 20, this a fifth.

function pad2(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}

function pad3(value: number): string {
  return value < 10 ? `00${value}` : value < 100 ? `0${value}` : `${value}`;
}

/**
 * `date.toISOString()` for dates in years 1000–9999 (every other date, and an invalid one, goes to the
 * built-in: it may throw RangeError as the built-in does). `new Date(ms)` is accepted as milliseconds.
 */
export function isoString(date: Date | number): string {
  const value = typeof date === 'number' ? new Date(date) : date;
  const year = value.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return value.toISOString();
  return (
    `${year}-${pad2(value.getUTCMonth() + 1)}-${pad2(value.getUTCDate())}` +
    `T${pad2(value.getUTCHours())}:${pad2(value.getUTCMinutes())}:${pad2(value.getUTCSeconds())}` +
    `.${pad3(value.getUTCMilliseconds())}Z`
  );
}

/** What `JSON.stringify` makes of a date: its ISO form, or null when it is invalid. */
export function dateToJson(date: Date): string | null {
  return Number.isNaN(date.getTime()) ? null : isoString(date);
}

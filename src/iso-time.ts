// Left for src/audit/pipeline.ts until it calls Date#toISOString itself (being restructured); then this file goes.

/** `new Date(date).toISOString()`. */
export function isoString(date: Date | number): string {
  return new Date(date).toISOString();
}

// The contract between the masking engine and its users (responses, audit events, logs).

/** What a caller may see unmasked: field paths or recognizer labels. */
export interface UnmaskGrant {
  fields?: string[];
  labels?: string[];
}

/** Masks a value (object, array or string) and returns a masked copy; never mutates its input by default. */
export interface Masker {
  mask<T>(value: T, grant?: UnmaskGrant): T;
  /**
   * Like `mask`, but may change the top-level object or array of `value` in place (never a nested value):
   * for a caller that has just built that object and would otherwise pay for a second copy of it.
   */
  maskOwned?<T>(value: T, grant?: UnmaskGrant): T;
  /**
   * What masking with `grant` may do to a scalar, or a list of scalars, at the dotted `path`: `'value'` when a rule
   * replaces or removes it, `'text'` when recognizers may rewrite strings there, `'none'` when it is left
   * alone. The visibility model asks this once per field; a masker without it is taken to mask every field.
   */
  reach?(path: string, grant?: UnmaskGrant): MaskReach;
}

export type MaskReach = 'none' | 'text' | 'value';

/** Masks a value the caller has just built, in place at its top level when the masker can. */
export function maskOwned<T>(masker: Masker, value: T, grant?: UnmaskGrant): T {
  return masker.maskOwned ? masker.maskOwned(value, grant) : masker.mask(value, grant);
}

// The contract between the masking engine and its users (responses, audit events, logs).

/** What a caller may see unmasked: field paths or recognizer labels. */
export interface UnmaskGrant {
  fields?: string[];
  labels?: string[];
}

/** Masks a value (object, array or string) and returns a masked copy; never mutates its input by default. */
export interface Masker {
  mask<T>(value: T, grant?: UnmaskGrant): T;
}

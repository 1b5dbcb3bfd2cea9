// The contract between field encryption and the filter language: equality search on encrypted fields.

/**
 * Computes blind-index values (keyed HMACs) for encrypted fields, so the filter language can answer
 * `field=value` and `field__in=[...]` without decrypting. Implemented by the field-encryption module.
 */
export interface BlindIndexer {
  /** True when `field` (a dotted path) is stored encrypted. */
  isEncrypted(field: string): boolean;
  /** True when `field` also has a blind index (equality and `in` are searchable). */
  isSearchable(field: string): boolean;
  /** The stored field holding the blind index of `field`, e.g. `nationalId_bidx`. */
  indexField(field: string): string;
  /** The blind-index value of a plaintext, with the current index key. */
  index(field: string, plaintext: string): string;
}

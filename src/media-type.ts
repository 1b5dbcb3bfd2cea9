// Media types (RFC 6838 names, lower case): what an upload may declare and what a configuration may accept.

/** A media type without parameters, e.g. `application/pdf`. */
export const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
/** A media type, a whole kind (`image/*`) or anything (`*∕*`), as accepted-type lists hold them. */
export const MEDIA_RANGE = /^([a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})|\*\/\*)$/;

/** Documents and images a browser shows without running anything: the default accepted attachment types. */
export const DEFAULT_ATTACHMENT_TYPES: readonly string[] = [
  'application/pdf',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'text/plain',
  'text/csv',
];

/** Default largest attachment: 10 MiB. */
export const DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024;

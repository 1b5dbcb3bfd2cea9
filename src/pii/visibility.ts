// One answer per caller and field (clear, masked or hidden), decided once per request for every read path.
import { LRUCache } from 'lru-cache';
import type { CompiledSchema } from '../filter/schema.js';
import type { Masker, UnmaskGrant } from './masker.js';

/** What a caller may learn of a field: its value, a masked form of it, or nothing at all. */
export type FieldView = 'clear' | 'masked' | 'hidden';

export interface Visibility {
  /**
   * Excluded paths (the caller's `excludeFields`) and the declared fields inside or around them: left out
   * of every response, refused everywhere like unknown fields.
   */
  readonly hidden: ReadonlySet<string>;
  /** Declared fields the caller sees masked: shown (masked) in responses, refused in filters and sorts. */
  readonly masked: ReadonlySet<string>;
  /**
   * Hidden and masked together, the fields the caller may not read in clear: they cannot be filtered,
   * sorted, searched nor have their values listed, and are refused like unknown fields.
   */
  readonly unreadable: ReadonlySet<string>;
  /** The grant the masker applies to this caller. */
  readonly grant: UnmaskGrant | undefined;
  /** A short string naming this view: callers with equal fingerprints see the same fields the same way. */
  readonly fingerprint: string;
  /** The view of one declared field (or of any path, for hidden ones). */
  of(path: string): FieldView;
}

export interface VisibilityModelOptions {
  /** The resource's fields, as the query compiler declares them. */
  schema: CompiledSchema;
  /** The masker of the resource's responses, if any. */
  masker?: Masker | undefined;
  /** The id field: never hidden nor masked. Default `id`. */
  idField?: string;
}

export interface VisibilityModel {
  /** The view of a caller with these excluded fields and this unmask grant. */
  of(excluded: readonly string[] | undefined, grant: UnmaskGrant | undefined): Visibility;
}

/** True when `path` is `field` or below it. */
function within(path: string, field: string): boolean {
  return (
    path === field || (path.length > field.length && path.charCodeAt(field.length) === 46 && path.startsWith(field))
  );
}

const MAX_CACHED = 256;

/**
 * Compiles the per-caller field views of one resource. Views are cached by what decides them (the excluded
 * paths and the grant's names), so a request pays for a map lookup, not a walk of the schema.
 */
export function createVisibilityModel(options: VisibilityModelOptions): VisibilityModel {
  const idField = options.idField ?? 'id';
  const masker = options.masker;
  const fields = [...options.schema.fields.values()].filter((field) => field.path !== idField);
  const cache = new LRUCache<string, Visibility>({ max: MAX_CACHED });

  function build(excluded: readonly string[], grant: UnmaskGrant | undefined): Visibility {
    const hidden = new Set(excluded);
    const masked = new Set<string>();
    const unreadable = new Set<string>(excluded);
    for (const field of fields) {
      // A field inside a hidden path is hidden; one holding a hidden path cannot be read whole either.
      if (excluded.some((path) => within(field.path, path) || within(path, field.path))) {
        hidden.add(field.path);
        unreadable.add(field.path);
        continue;
      }
      if (!masker) continue;
      // A masker that cannot say what it masks is taken to mask everything: refusing is the safe side.
      const reach = masker.reach ? masker.reach(field.path, grant) : 'value';
      if (reach === 'value' || (reach === 'text' && field.type === 'string')) {
        masked.add(field.path);
        unreadable.add(field.path);
      }
    }
    const fingerprint = `hidden:${[...hidden].sort().join(',')};masked:${[...masked].sort().join(',')}`;
    return {
      hidden,
      masked,
      unreadable,
      grant,
      fingerprint,
      of(path) {
        for (const field of hidden) if (within(path, field)) return 'hidden';
        return masked.has(path) ? 'masked' : 'clear';
      },
    };
  }

  return {
    of(excluded = [], grant) {
      const names = grant
        ? [...(grant.fields ?? [])].sort().join(',') + ';' + [...(grant.labels ?? [])].sort().join(',')
        : '';
      const key = `${[...excluded].sort().join(',')}|${names}`;
      let view = cache.get(key);
      if (!view) {
        view = build(excluded, grant);
        cache.set(key, view);
      }
      // The cached view keeps the first grant with these names: an equal grant, whose compiled form the
      // masker has cached already.
      return view;
    },
  };
}

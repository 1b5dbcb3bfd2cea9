// The MongoDB side of key rotation: stale-record queries and compare-and-set rewrites on one collection.
import type { Connection } from 'mongoose';
import type { RotationSource, RotationRecord } from '../../src/pii/key-rotation.js';
import { mongoCall } from './errors.js';

type Raw = Record<string, unknown>;

/** A rotation source over `collection` of a connected mongoose connection (raw documents, no model). */
export function mongoRotationSource(
  connection: Connection,
  collection: string,
  versionField = '_encVersion',
): RotationSource {
  const documents = () => connection.collection<Raw>(collection);
  const staleFilter = (version: number): Raw => ({ [versionField]: { $ne: version } });
  return {
    async findStale(version, limit, afterId): Promise<RotationRecord[]> {
      const filter =
        afterId === undefined ? staleFilter(version) : { $and: [staleFilter(version), { _id: { $gt: afterId } }] };
      const found = await mongoCall(() => documents().find(filter).sort({ _id: 1 }).limit(limit).toArray());
      return found.map((raw) => ({ id: raw._id, raw }));
    },
    countStale(version) {
      return mongoCall(() => documents().countDocuments(staleFilter(version)));
    },
    async replaceIfUnchanged(changes) {
      // One round trip per batch; each update is its own compare-and-set on the fields it read.
      const operations = changes.map(({ id, expected, update }) => {
        const filter: Raw = { _id: id };
        for (const [field, value] of Object.entries(expected)) {
          filter[field] = value === undefined ? { $exists: false } : value;
        }
        const body: Raw = { $set: update.$set };
        if (Object.keys(update.$unset).length > 0) body.$unset = update.$unset;
        return { updateOne: { filter, update: body } };
      });
      const result = await mongoCall(() => documents().bulkWrite(operations, { ordered: false }));
      return result.matchedCount;
    },
  };
}

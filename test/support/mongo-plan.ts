// What a MongoDB-compatible server says of itself and of its query plans, for the index tests.
import type { Connection } from 'mongoose';

/** Index names a plan uses (IXSCAN stages), found anywhere in the winning plan. */
export function indexesUsed(plan: unknown, found: string[] = []): string[] {
  if (Array.isArray(plan)) for (const item of plan) indexesUsed(item, found);
  else if (plan && typeof plan === 'object') {
    const stage = plan as Record<string, unknown>;
    if (stage.stage === 'IXSCAN' && typeof stage.indexName === 'string') found.push(stage.indexName);
    for (const value of Object.values(stage)) indexesUsed(value, found);
  }
  return found;
}

/** FerretDB names itself in buildInfo; it plans queries without secondary indexes and has no TTL index. */
export async function isFerretDb(connection: Connection): Promise<boolean> {
  const info = await connection.db!.admin().command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === 'string';
}

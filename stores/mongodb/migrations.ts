// Versioned, reversible schema migrations of a MongoDB store, recorded in a `<collection>_migrations` collection.
import type { Connection } from 'mongoose';
import { mongoCall, upsertById } from './errors.js';

export interface Migration<S> {
  version: number;
  description: string;
  up(store: S): Promise<void>;
  down(store: S): Promise<void>;
}

interface AppliedMigration {
  _id: number;
  description: string;
  at: Date;
}

/** The migrations of one store: which are applied, and running them up to or down to a version. */
export class MigrationLog<S> {
  readonly #connection: Connection;
  readonly #collection: string;
  readonly #migrations: readonly Migration<S>[];

  constructor(connection: Connection, collection: string, migrations: readonly Migration<S>[]) {
    this.#connection = connection;
    this.#collection = collection;
    this.#migrations = [...migrations].sort((a, b) => a.version - b.version);
  }

  get #log() {
    return this.#connection.collection<AppliedMigration>(this.#collection);
  }

  async applied(): Promise<number[]> {
    const applied = await mongoCall(() => this.#log.find({}).sort({ _id: 1 }).toArray());
    return applied.map((migration) => migration._id);
  }

  /** Applies the pending migrations up to `target`, in order; returns the versions applied. */
  async up(store: S, target = Infinity): Promise<number[]> {
    const applied = new Set(await this.applied());
    const done: number[] = [];
    for (const migration of this.#migrations) {
      if (migration.version > target || applied.has(migration.version)) continue;
      await migration.up(store);
      // Processes starting together on a fresh database run the same (idempotent) migrations.
      await upsertById(() =>
        this.#log.updateOne(
          { _id: migration.version },
          { $set: { description: migration.description, at: new Date() } },
          { upsert: true },
        ),
      );
      done.push(migration.version);
    }
    return done;
  }

  /** Reverts the applied migrations above `target`, newest first; returns the versions reverted. */
  async down(store: S, target = 0): Promise<number[]> {
    const applied = new Set(await this.applied());
    const done: number[] = [];
    for (const migration of [...this.#migrations].reverse()) {
      if (migration.version <= target || !applied.has(migration.version)) continue;
      await migration.down(store);
      await mongoCall(() => this.#log.deleteOne({ _id: migration.version }));
      done.push(migration.version);
    }
    return done;
  }
}

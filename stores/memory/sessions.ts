// In-process session store: the embedded default, with lazy expiry on an injectable clock.
import { systemClock, type Clock } from '../../src/clock.js';
import type { NewSession, SessionRecord, SessionStore } from '../../src/contracts/sessions.js';
import { ConflictError } from '../../src/errors.js';
import { validateNewSession } from '../session-validation.js';
import { copyData } from './copy.js';

export interface MemorySessionStoreOptions {
  /** Clock used for expiry. Default `Date.now`. */
  now?: Clock;
}

export class MemorySessionStore implements SessionStore {
  readonly backend = 'memory' as const;
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #now: Clock;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#now = options.now ?? systemClock;
  }

  async create(session: NewSession): Promise<SessionRecord> {
    validateNewSession(session);
    if (this.#live(session.id)) throw new ConflictError('A session with this id already exists.');
    const now = this.#now();
    const record: SessionRecord = {
      id: session.id,
      userId: session.userId,
      createdAt: new Date(now),
      lastSeenAt: new Date(now),
      expiresAt: new Date(now + session.ttlMs),
      meta: { ...session.meta },
    };
    this.#sessions.set(record.id, record);
    return copyData(record);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const record = this.#live(id);
    return record && copyData(record);
  }

  async touch(id: string): Promise<boolean> {
    const record = this.#live(id);
    if (!record) return false;
    record.lastSeenAt = new Date(this.#now());
    return true;
  }

  async revoke(id: string): Promise<boolean> {
    const existed = this.#live(id) !== undefined;
    this.#sessions.delete(id);
    return existed;
  }

  async listByUser(userId: string): Promise<SessionRecord[]> {
    return [...this.#sessions.keys()]
      .map((id) => this.#live(id))
      .filter((record): record is SessionRecord => record?.userId === userId)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .map((record) => copyData(record));
  }

  async revokeAllForUser(userId: string): Promise<number> {
    const sessions = await this.listByUser(userId);
    for (const session of sessions) this.#sessions.delete(session.id);
    return sessions.length;
  }

  #live(id: string): SessionRecord | undefined {
    const record = this.#sessions.get(id);
    if (record && record.expiresAt.getTime() <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return record;
  }
}

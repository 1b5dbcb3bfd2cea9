// The session store contract: server-side sessions named by a JWT's `jti`, with a time to live.
import type { ManagedStore } from './lifecycle.js';

export interface SessionRecord {
  /** The session id, carried as the JWT `jti`. */
  id: string;
  /** The principal the session belongs to. */
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  /** Last time the session authenticated a request. */
  lastSeenAt: Date;
  /** Safe metadata recorded at login (user agent, IP); never secrets. */
  meta: Record<string, string>;
}

export interface NewSession {
  id: string;
  userId: string;
  /** Lifetime in milliseconds from now. */
  ttlMs: number;
  meta?: Record<string, string>;
}

export interface SessionStore extends ManagedStore {
  /** Stores a new session; a duplicate id is rejected with `ConflictError`. */
  create(session: NewSession): Promise<SessionRecord>;
  /** The live session, or `undefined` when unknown, revoked or expired. */
  get(id: string): Promise<SessionRecord | undefined>;
  /** Records use; returns false when the session is no longer live. */
  touch(id: string): Promise<boolean>;
  /**
   * Revokes one session; true when it existed. Takes effect at once for every process. Of concurrent revokes of
   * one session, from any processes, exactly one returns true (a pending TOTP login relies on it).
   */
  revoke(id: string): Promise<boolean>;
  /** The user's live sessions, newest first. */
  listByUser(userId: string): Promise<SessionRecord[]>;
  /** Revokes every session of the user; returns how many. */
  revokeAllForUser(userId: string): Promise<number>;
}

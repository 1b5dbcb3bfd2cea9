// What every store shares: a backend name, a health check and a graceful close.

export interface StoreHealth {
  /** `up` when the backing server answered the last check in time. */
  status: 'up' | 'down';
  backend: 'memory' | 'mongodb' | 'redis';
  /** Round-trip time of the check, when it ran. */
  latencyMs?: number;
  /** A short, safe reason when down (never a driver message with hosts or credentials). */
  reason?: string;
}

export interface ManagedStore {
  readonly backend: 'memory' | 'mongodb' | 'redis';
  /** Creates indexes or loads scripts; safe to call more than once. Optional. */
  init?(): Promise<void>;
  /** Releases timers and resources the store owns. Never closes a client it was given. */
  close?(): Promise<void>;
}

// What every store shares: a backend name, a health check and a graceful close.

export interface StoreHealth {
  /** `up` when the backing server answered the last check in time. */
  status: 'up' | 'down';
  backend: 'memory' | 'mongodb' | 'redis';
  /** Round-trip time of the check, when it ran. */
  latencyMs?: number;
  /** A short, safe reason when down (never a driver message with hosts or credentials). */
  reason?: string;
  /** Forced reconnects of a client that stayed unreachable past its bound, when there were any. */
  recovery?: StoreRecovery;
}

/** What a store client's watchdog did to recover without a restart (`GET /health` shows it). */
export interface StoreRecovery {
  /** Forced reconnects since start-up. */
  attempts: number;
  /** When the last one started (ISO time). */
  lastAttemptAt: string;
  /** `pending` while it runs; `failed` when the server did not answer it (it is tried again). */
  lastOutcome: 'pending' | 'reconnected' | 'failed';
  /** How long the server has not answered, while it still does not. */
  unhealthyForMs?: number;
}

export interface ManagedStore {
  readonly backend: 'memory' | 'mongodb' | 'redis';
  /** Creates indexes or loads scripts; safe to call more than once. Optional. */
  init?(): Promise<void>;
  /** Releases timers and resources the store owns. Never closes a client it was given. */
  close?(): Promise<void>;
}

// Time source injected into time-dependent code so tests pass a fake clock instead of sleeping.

/** Milliseconds since the epoch. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

// The logger every part of Portcullis writes through: pino, or anything with the same four methods.
import { pino, type LevelWithSilent } from 'pino';
import { maskingLogger } from './pii/logging.js';
import type { Masker } from './pii/masker.js';

type LogFn = (object: Record<string, unknown>, message?: string) => void;

/** The subset of pino's API Portcullis uses, so any compatible logger can be injected. */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  child?(bindings: Record<string, unknown>): Logger;
}

/** A log method that also takes a bare message, as pino's does: `logger.info('text')`. */
export interface AppLogFn extends LogFn {
  (message: string): void;
}

/** What `createLogger` returns: a `Logger` whose methods also take a bare message. */
export interface AppLogger extends Logger {
  error: AppLogFn;
  warn: AppLogFn;
  info: AppLogFn;
  debug: AppLogFn;
  child(bindings: Record<string, unknown>): AppLogger;
}

export interface LoggerOptions {
  /** Minimum level. Default `info`. */
  level?: LevelWithSilent;
  /** Where to write; default standard output. */
  destination?: NodeJS.WritableStream;
  /** Masks every log object (and, with a `createMasker` engine, the message text) before it is written. Default none. */
  masker?: Masker;
}

/** A JSON logger that never prints error stacks of secrets: it logs what callers pass, nothing more. */
export function createLogger(options: LoggerOptions = {}): AppLogger {
  const destination = options.destination as Parameters<typeof pino>[1];
  const logger = pino({ level: options.level ?? 'info', base: undefined }, destination);
  // Masked before pino serializes anything, child bindings included, so no destination ever sees PII.
  return (options.masker ? maskingLogger(logger, options.masker) : logger) as AppLogger;
}

/** A logger that drops everything; the default where none is injected in tests. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
};

/** Serializes an error for a log line: name, code and message only, never the stack of a client error. */
export function errorForLog(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(code === undefined ? {} : { code }), stack: error.stack };
}

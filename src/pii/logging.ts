// Masking for loggers: a wrapper for any Logger, and pino options for applications that build their own pino.
import type { Logger } from '../logger.js';
import type { Masker } from './masker.js';

/**
 * Wraps a logger so every object, message and child binding passes through the masker first
 * (`createLogger({ masker })` uses it).
 */
export function maskingLogger(logger: Logger, masker: Masker): Logger {
  const maskText = (masker as { maskText?: (text: string) => string }).maskText?.bind(masker);
  const text = (message: string) => (maskText ? maskText(message) : (masker.mask(message) as string));
  // pino's form `info('text')` takes the message alone; it is masked like any other message.
  const wrap =
    (write: Logger['info']): Logger['info'] =>
    (object, message) =>
      typeof object === 'string'
        ? (write as unknown as (message: string) => void)(text(object))
        : write(masker.mask(object), message === undefined ? message : text(message));
  return {
    error: wrap(logger.error.bind(logger)),
    warn: wrap(logger.warn.bind(logger)),
    info: wrap(logger.info.bind(logger)),
    debug: wrap(logger.debug.bind(logger)),
    ...(logger.child
      ? { child: (bindings: Record<string, unknown>) => maskingLogger(logger.child!(masker.mask(bindings)), masker) }
      : {}),
  };
}

/**
 * Options to spread into your own `pino({...})`: `formatters.log` masks each log object and
 * `hooks.logMethod` masks message strings. Pino does not pass child bindings through formatters, so mask
 * what you give `child()` yourself, or use `maskingLogger`.
 */
export function pinoMaskingOptions(masker: Masker): {
  formatters: { log: (object: Record<string, unknown>) => Record<string, unknown> };
  hooks: { logMethod: (this: unknown, args: unknown[], method: (...args: unknown[]) => void) => void };
} {
  const maskText = (masker as { maskText?: (text: string) => string }).maskText?.bind(masker);
  return {
    formatters: { log: (object) => masker.mask(object) },
    hooks: {
      logMethod(args, method) {
        if (maskText) {
          for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = maskText(args[i] as string);
        }
        method.apply(this, args);
      },
    },
  };
}

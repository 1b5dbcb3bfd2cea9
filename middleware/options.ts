// Rejects unknown option keys at creation with a did-you-mean hint (a typo must not silently mean "default").
import { ConfigError, didYouMean } from '../src/errors.js';

export function rejectUnknownOptions(factory: string, options: object | undefined, known: readonly string[]): void {
  for (const key of Object.keys(options ?? {})) {
    if (!known.includes(key)) {
      throw new ConfigError(key, `is not a ${factory}() option`, { hint: didYouMean(key, known) });
    }
  }
}

// Command-line arguments through node:util parseArgs, with the CLI's one-line errors naming the option.
import { parseArgs } from 'node:util';
import { didYouMean } from '../errors.js';
import { UsageError } from './command.js';

/** The options of one command: each takes a value (`string`) or none (`boolean`); `multiple` repeats. */
export type ArgOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

export type ArgValues<T extends ArgOptions> = {
  [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : T[K] extends { multiple: true } ? string[] : string;
};

/**
 * Parses `args` against `options` (long names only; `--name value` or `--name=value`). Throws a UsageError for
 * an unknown option (with a did-you-mean), a value missing or taken from the next option, a value given to a
 * flag, or more than `maxPositionals` other arguments (`tooMany` says what to give instead).
 */
export function parseCommandArgs<const T extends ArgOptions>(
  args: readonly string[],
  options: T,
  { maxPositionals = 0, tooMany }: { maxPositionals?: number; tooMany?: string } = {},
): { values: ArgValues<T>; positionals: string[] } {
  // Not strict: the tokens are checked here, so that each error names the option the way this CLI does.
  const { values, positionals, tokens } = parseArgs({
    args: joinNegativeValues(args, options),
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const names = Object.keys(options);
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!spec || token.rawName.length === 2) {
      const hint = token.rawName.length === 2 ? undefined : didYouMean(token.name, names);
      throw new UsageError(
        `unknown option ${token.rawName}${hint ? ` (${hint.replace('you mean ', 'you mean --')})` : ''}`,
      );
    }
    if (spec.type === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))) {
      throw new UsageError(`${token.rawName} needs a value`);
    }
    if (spec.type === 'boolean' && token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
  }
  if (positionals.length > maxPositionals) {
    throw new UsageError(
      tooMany ?? (maxPositionals === 0 ? `unexpected argument "${positionals[0]}"` : 'too many arguments'),
    );
  }
  return { values: values as ArgValues<T>, positionals };
}

/**
 * `--limit -5` as `--limit=-5`: parseArgs would read `-5` as short options, and the message would say the value
 * is missing; given as the value, the option's own range check says what is wrong with it.
 */
function joinNegativeValues(args: readonly string[], options: ArgOptions): string[] {
  const joined: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const next = args[index + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      index++;
    } else joined.push(arg);
  }
  return joined;
}

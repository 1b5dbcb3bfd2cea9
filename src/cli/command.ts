// The shape of a CLI sub-command and the error that ends one with exit status 2.

export interface CliIO {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Reads a file given on the command line (injectable for tests). */
  readFile: (path: string) => Promise<string>;
  env: Record<string, string | undefined>;
}

export interface Command {
  name: string;
  /** One line for `portcullis --help`. */
  summary: string;
  /** Full usage, printed by `portcullis help NAME` and on usage errors. */
  usage: string;
  /** Returns the exit status. Throws `UsageError` for bad input. */
  run(args: string[], io: CliIO): Promise<number>;
}

/** Bad input on the command line: printed as one line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

// Dispatches `portcullis` arguments to a sub-command; handles --help, --version and usage errors.
import { readFile } from 'node:fs/promises';
import { version } from '../version.js';
import { UsageError, type CliIO, type Command } from './command.js';
import { commands as registered } from './registry.js';
import { didYouMean } from '../errors.js';

export function defaultIO(): CliIO {
  return {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    readFile: (path) => readFile(path, 'utf8'),
    env: process.env,
  };
}

function helpText(commands: Command[]): string {
  const width = Math.max(8, ...commands.map((command) => command.name.length));
  return [
    `portcullis ${version} — access control and audit for Express`,
    '',
    'Usage: portcullis <command> [options]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    `  ${'help'.padEnd(width)}  Show the usage of a command: portcullis help <command>`,
    '',
    'Options:',
    '  -h, --help     Show this help',
    '  -v, --version  Print the version',
    '',
    'Bad input prints one line naming the problem and exits with status 2.',
  ].join('\n');
}

/** Runs the CLI and returns the exit status (0 ok, 1 a negative answer where a command defines one, 2 bad input). */
export async function runCli(
  argv: string[],
  io: CliIO = defaultIO(),
  commands: Command[] = registered,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help') {
    io.stdout(helpText(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === '-v' || name === '--version') {
    io.stdout(version);
    return 0;
  }
  const lookup = (wanted: string) => commands.find((command) => command.name === wanted);
  if (name === 'help') {
    const command = rest[0] ? lookup(rest[0]) : undefined;
    if (!command) {
      io.stdout(helpText(commands));
      return rest[0] ? 2 : 0;
    }
    io.stdout(command.usage);
    return 0;
  }
  const command = lookup(name);
  if (!command) {
    const hint = didYouMean(
      name,
      commands.map((c) => c.name),
    );
    io.stderr(`portcullis: unknown command "${name}"${hint ? ` (${hint})` : ''}; see portcullis --help`);
    return 2;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`portcullis ${command.name}: ${message.split('\n')[0]}`);
    return 2;
  }
}

export { UsageError };

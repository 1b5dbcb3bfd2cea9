// An in-memory CliIO for CLI tests: captured output lines and a fixed set of readable files.
import type { CliIO } from '../../src/cli/command.js';

export function io(files: Record<string, string> = {}, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIO = {
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
    readFile: async (path) => {
      if (!Object.hasOwn(files, path)) throw new Error('ENOENT');
      return files[path]!;
    },
    env,
  };
  return { io: value, out, err };
}

// The package version, read once from package.json so the CLI and health report agree with npm.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findManifest(): string {
  // Sources run from src/, the build from dist/src/: walk up to the package's own manifest.
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(directory);
    if (parent === directory) throw new Error('portcullis: package.json not found');
    directory = parent;
  }
}

export const version: string = (JSON.parse(readFileSync(findManifest(), 'utf8')) as { version: string }).version;

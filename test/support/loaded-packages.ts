// Preloaded with `--import`: at exit, prints as JSON every package the process loaded, through `import` (an
// ESM resolve hook, which also sees CommonJS packages imported from ESM) or `require` (require.cache).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The hook runs on the loader thread and appends each resolved URL synchronously, before the import it
// resolves goes on: nothing can be missed at exit (a message port could still hold undelivered ones).
const directory = mkdtempSync(join(tmpdir(), 'portcullis-loads-'));
const log = join(directory, 'urls');
const hook = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { log } });

process.on('exit', () => {
  let resolved: string[] = [];
  try {
    resolved = readFileSync(log, 'utf8').split('\n');
  } catch {
    // nothing was imported after the hook
  }
  rmSync(directory, { recursive: true, force: true });
  const packages = new Set<string>();
  for (const file of [...resolved, ...Object.keys(createRequire(import.meta.url).cache)]) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(decodeURIComponent(file));
    if (match?.[1]) packages.add(match[1]);
  }
  process.stdout.write(`\nLOADED ${JSON.stringify([...packages].sort())}\n`);
});

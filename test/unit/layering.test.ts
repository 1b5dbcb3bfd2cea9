// The layer check (eslint, part of `npm run lint`) sees every way a module is reached, dynamic import() included.
import { expect } from 'chai';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The layer-rule messages eslint reports for `code` placed at `file`. */
async function violations(file: string, code: string): Promise<number[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${file}` });
  return result!.messages
    .filter((message) => message.ruleId === 'no-restricted-imports' || message.ruleId === 'no-restricted-syntax')
    .map((message) => message.line);
}

describe('layer boundaries', function () {
  this.timeout(30_000);

  it('keep drivers, Express, stores/ and middleware/ out of src/, however they are imported', async function () {
    const code = [
      "import type { Connection } from 'mongoose';",
      "export const a = () => import('../stores/memory/index.js');",
      "export const b = () => import('express');",
      'export const c = (name: string) => import(name);',
      "export { errorHandler } from '../middleware/error-handler.js';",
      "export const d = () => require('ioredis');",
      "export const fine = () => import('./errors.js');",
    ].join('\n');
    expect(await violations('src/layering-probe.ts', code)).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('let middleware/ reach stores only through their contracts, and the CLI load anything', async function () {
    const code = [
      "export const a = () => import('../stores/mongodb/records.js');",
      "import { MemoryRecordStore } from '../stores/memory/records.js';",
      "import type { RecordStore } from '../src/contracts/records.js';",
      'export type S = RecordStore | MemoryRecordStore;',
    ].join('\n');
    expect(await violations('middleware/layering-probe.ts', code)).to.deep.equal([1, 2]);
    const cli = "export const a = () => import('../../stores/mongodb/index.js');";
    expect(await violations('src/cli/layering-probe.ts', cli)).to.deep.equal([]);
  });

  it('keep every driver out of the root entry point, types included', async function () {
    const code = [
      "export type { Connection } from 'mongoose';",
      "export { createStores } from './stores/create-stores.js';",
      "export { MemoryRecordStore } from './stores/memory/records.js';",
    ].join('\n');
    expect(await violations('index.ts', code)).to.deep.equal([1, 2]);
  });
});

// The README's configuration table must list exactly the schema's variables, with the same facts.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { configSchema } from '../../src/config/index.js';
import type { VariableSpec } from '../../src/config/variables.js';
import { extractConfigTable } from '../../scripts/config-table.js';

function parseRows(table: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of table.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replace(/\\\|/g, '|'));
    rows.set(cells[0]!.replace(/`/g, ''), cells.slice(1));
  }
  return rows;
}

describe('README configuration table', function () {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = extractConfigTable(readme);
  const rows = parseRows(table ?? '');

  it('exists between its markers', function () {
    expect(table, 'run npm run docs:config').to.be.a('string');
  });

  it('lists every schema variable and nothing else', function () {
    expect([...rows.keys()].sort()).to.deep.equal(Object.keys(configSchema).sort());
  });

  it('states the same type, default, secrecy and description as the schema', function () {
    for (const [name, spec] of Object.entries(configSchema) as [string, VariableSpec<unknown>][]) {
      const [accepts, fallback, secret, description] = rows.get(name) ?? [];
      const expectedDefault =
        spec.default === undefined
          ? '—'
          : `\`${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)}\``;
      expect({ name, accepts, fallback, secret, description }).to.deep.equal({
        name,
        accepts: spec.accepts,
        fallback: expectedDefault,
        secret: spec.secret ? 'yes' : '',
        description: spec.description,
      });
    }
  });
});

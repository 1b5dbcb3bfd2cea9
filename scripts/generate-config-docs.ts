// Rewrites the configuration table in README.md from the schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { extractConfigTable, renderConfigTable } from './config-table.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const current = extractConfigTable(readme);
if (current === undefined) throw new Error('README.md has no config-table markers');
writeFileSync(path, readme.replace(current, renderConfigTable()));
console.log('README.md configuration table updated');

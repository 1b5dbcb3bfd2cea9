// Rewrites the README walkthrough from examples/demo/walkthrough.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { WALKTHROUGH_BEGIN, WALKTHROUGH_END, extractBlock, renderWalkthroughBlock } from './readme-blocks.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const current = extractBlock(readme, WALKTHROUGH_BEGIN, WALKTHROUGH_END);
if (current === undefined) throw new Error('README.md has no walkthrough markers');
writeFileSync(path, readme.replace(current, renderWalkthroughBlock()));
console.log('README.md walkthrough updated');

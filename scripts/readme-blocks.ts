// Generated blocks of README.md: markers, rendering and comparison shared by the generator and the tests.
import { renderWalkthrough } from '../examples/demo/walkthrough-types.js';
import { walkthrough } from '../examples/demo/walkthrough.js';

export const WALKTHROUGH_BEGIN =
  '<!-- walkthrough:begin (generated from examples/demo/walkthrough.ts by `npm run docs:walkthrough`) -->';
export const WALKTHROUGH_END = '<!-- walkthrough:end -->';

export function renderWalkthroughBlock(): string {
  return `${WALKTHROUGH_BEGIN}\n\n${renderWalkthrough(walkthrough)}\n\n${WALKTHROUGH_END}`;
}

export function extractBlock(readme: string, begin: string, end: string): string | undefined {
  const start = readme.indexOf(begin);
  const stop = readme.indexOf(end);
  if (start < 0 || stop < start) return undefined;
  return readme.slice(start, stop + end.length);
}

/** Prettier may re-wrap prose and re-indent; compare the words and code, not the layout. */
export function normalized(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// The README walkthrough, replayed against `npm start` on memory stores and on real MongoDB and Redis, step by
// step, each answer checked against what the README shows of it.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { walkthrough } from '../../examples/demo/walkthrough.js';
import { substitute } from '../../examples/demo/walkthrough-types.js';
import { parseShown, shownMismatches } from '../../examples/demo/shown-answer.js';
import {
  WALKTHROUGH_BEGIN,
  WALKTHROUGH_END,
  extractBlock,
  normalized,
  renderWalkthroughBlock,
} from '../../scripts/readme-blocks.js';
import { mongoUriFor, requireEnv, uniqueName } from '../support/connections.js';
import { startDemo, type DemoProcess } from '../support/demo-process.js';

describe('README walkthrough', function () {
  it('is the one generated from examples/demo/walkthrough.ts', function () {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = extractBlock(readme, WALKTHROUGH_BEGIN, WALKTHROUGH_END);
    expect(block, 'run npm run docs:walkthrough').to.be.a('string');
    expect(normalized(block!)).to.equal(normalized(renderWalkthroughBlock()));
  });

  const setups: { name: string; env: () => Record<string, string> }[] = [
    { name: 'memory stores', env: () => ({}) },
    {
      name: 'MongoDB and Redis',
      env: () => ({
        MONGODB_URI: mongoUriFor(uniqueName('walkthrough')),
        REDIS_URL: requireEnv('REDIS_URL'),
        ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
        BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
      }),
    },
  ];

  for (const setup of setups) {
    describe(`against npm start with ${setup.name}`, function () {
      this.timeout(120_000);
      let demo: DemoProcess;
      const values: Record<string, string> = { ADMIN_API_KEY: `walk.${randomBytes(24).toString('base64url')}` };
      const answers: unknown[] = [];

      before(async function () {
        demo = await startDemo({ ...setup.env(), ADMIN_API_KEY: values.ADMIN_API_KEY! });
      });

      after(async function () {
        if (demo) expect(await demo.stop(), demo.output()).to.equal(0);
      });

      walkthrough.forEach((step, index) => {
        it(`${index + 1}. ${step.title}`, async function () {
          // Steps marked eventual read what the audit pipeline writes in batches: retry them for a while.
          const deadline = Date.now() + (step.eventual ? 5000 : 0);
          for (;;) {
            try {
              await runStep();
              return;
            } catch (error) {
              if (Date.now() > deadline) throw error;
              await new Promise((resolve) => setTimeout(resolve, 250));
            }
          }
        });

        async function runStep() {
          const { request } = step;
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(request.headers ?? {})) {
            headers[name] = substitute(value, values);
          }
          if (request.body !== undefined) headers['Content-Type'] = 'application/json';
          const response = await fetch(`${demo.baseUrl}${substitute(request.path, values)}`, {
            method: request.method,
            headers,
            ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
          });
          const text = await response.text();
          const body = text ? (JSON.parse(text) as unknown) : undefined;
          expect(response.status, text).to.equal(step.status);
          if (response.status >= 400) {
            expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
          }
          // What the README shows of the answer, field by field.
          if (step.shows) expect(shownMismatches(parseShown(step.shows), body), text).to.deep.equal([]);
          step.check?.(body, response.headers);
          Object.assign(values, step.capture?.(body));
          answers[index] = body;
        }
      });

      it("the README's error example is the answer to step 6, in full", function () {
        const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
        const section = readme.slice(readme.indexOf('## Error responses'));
        const example = /```json\n([\s\S]*?)```/.exec(section)![1]!;
        const step6 = walkthrough.findIndex((step) => step.title.startsWith('Bad filters'));
        expect(answers[step6], 'step 6 ran').to.not.equal(undefined);
        expect(shownMismatches(parseShown(example), answers[step6])).to.deep.equal([]);
      });
    });
  }
});

// Replays vakt 1.6's own decisions (test/fixtures/vakt, written by scripts/vakt-fixtures/generate.py):
// policies imported from vakt's to_json must decide every inquiry exactly as vakt does.
import { expect } from 'chai';
import { decisionCount, divergences, readVaktFixture, vaktFixtureFiles } from '../../support/vakt-replay.js';

const files = vaktFixtureFiles();

describe('abac: decisions replayed from vakt 1.6', function () {
  it('has fixtures for every family', function () {
    expect(files.length).to.be.at.least(8);
  });
  for (const file of files) {
    it(`decides ${file} as vakt does`, function () {
      const fixture = readVaktFixture(file);
      const found = divergences(fixture);
      const total = decisionCount(fixture);
      expect(found, `${found.length} of ${total} decisions diverge; first:\n${found.slice(0, 5).join('\n')}`).to.be
        .empty;
    });
  }
});

// Replays vakt's recorded decisions (test/fixtures/vakt) with Portcullis and lists where they differ.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Guard, policyFromJSON, type Inquiry, type Policy } from 'portcullis';
import { type CheckerName } from '../../src/abac/checkers.js';

/** One policy set (vakt's to_json output) and vakt's decision on each inquiry of its case. */
export interface FixtureSet {
  note: string;
  /** Set when Portcullis refuses these policies at import (a difference listed in docs/abac.md). */
  refused?: string;
  policies: unknown[];
  allowed: boolean[];
}

/** Inquiries asked of one or more policy sets with one checker. */
export interface FixtureCase {
  checker: CheckerName;
  inquiries: Inquiry[];
  sets: FixtureSet[];
}

export interface Fixture {
  family: string;
  cases: FixtureCase[];
}

/** How many decisions a fixture records. */
export function decisionCount(fixture: Fixture): number {
  return fixture.cases.reduce((sum, item) => sum + item.inquiries.length * item.sets.length, 0);
}

/** Decides every inquiry of a fixture; returns the divergences, described for a reader. */
export function divergences(fixture: Fixture): string[] {
  const found: string[] = [];
  for (const item of fixture.cases) {
    for (const set of item.sets) {
      let policies: Policy[];
      try {
        policies = set.policies.map((json) => policyFromJSON(json));
      } catch (error) {
        // A documented difference: these policies are refused rather than decided.
        if (!set.refused) {
          found.push(`${set.note}: import failed: ${(error as Error).message} ${JSON.stringify(set.policies)}`);
        }
        continue;
      }
      if (set.refused) {
        found.push(`${set.note}: imported, though Portcullis refuses policies with ${set.refused}`);
        continue;
      }
      const guard = new Guard({ policies, checker: item.checker });
      item.inquiries.forEach((inquiry, i) => {
        const ours = guard.decideSync(inquiry).allowed;
        if (ours !== set.allowed[i]) {
          found.push(
            `${set.note}: vakt ${set.allowed[i] ? 'allows' : 'denies'}, Portcullis ${ours ? 'allows' : 'denies'} ` +
              `${JSON.stringify(inquiry)} under ${JSON.stringify(set.policies)}`,
          );
        }
      });
    }
  }
  return found;
}

export const VAKT_FIXTURES = fileURLToPath(new URL('../fixtures/vakt/', import.meta.url));

export function vaktFixtureFiles(): string[] {
  return readdirSync(VAKT_FIXTURES).filter((name) => name.endsWith('.json'));
}

export function readVaktFixture(file: string): Fixture {
  return JSON.parse(readFileSync(`${VAKT_FIXTURES}${file}`, 'utf8')) as Fixture;
}

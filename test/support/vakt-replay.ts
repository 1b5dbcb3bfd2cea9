// Replays vakt's recorded decisions (test/fixtures/vakt) with Portcullis and lists where they differ.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Guard, policyFromJSON, type CheckerName, type Inquiry, type Policy } from '../../src/index.js';

export interface FixtureInquiry extends Inquiry {
  allowed: boolean;
}
export interface FixtureCase {
  note: string;
  checker: CheckerName;
  /** Set when Portcullis refuses these policies at import (a difference listed in docs/abac.md). */
  refused?: string;
  policies: unknown[];
  inquiries: FixtureInquiry[];
}

/** Decides every inquiry of a fixture; returns the divergences, described for a reader. */
export function divergences(cases: readonly FixtureCase[]): string[] {
  const found: string[] = [];
  for (const item of cases) {
    let policies: Policy[];
    try {
      policies = item.policies.map((json) => policyFromJSON(json));
    } catch (error) {
      // A documented difference: these policies are refused rather than decided.
      if (item.refused) continue;
      found.push(`${item.note}: import failed: ${(error as Error).message} ${JSON.stringify(item.policies)}`);
      continue;
    }
    if (item.refused) {
      found.push(`${item.note}: imported, though Portcullis refuses policies with ${item.refused}`);
      continue;
    }
    const guard = new Guard({ policies, checker: item.checker });
    for (const { allowed, ...inquiry } of item.inquiries) {
      const ours = guard.decideSync(inquiry).allowed;
      if (ours !== allowed) {
        found.push(
          `${item.note}: vakt ${allowed ? 'allows' : 'denies'}, Portcullis ${ours ? 'allows' : 'denies'} ` +
            `${JSON.stringify(inquiry)} under ${JSON.stringify(item.policies)}`,
        );
      }
    }
  }
  return found;
}

export const VAKT_FIXTURES = fileURLToPath(new URL('../fixtures/vakt/', import.meta.url));

export function vaktFixtureFiles(): string[] {
  return readdirSync(VAKT_FIXTURES).filter((name) => name.endsWith('.json'));
}

export function readVaktFixture(file: string): { family: string; cases: FixtureCase[] } {
  return JSON.parse(readFileSync(`${VAKT_FIXTURES}${file}`, 'utf8')) as { family: string; cases: FixtureCase[] };
}

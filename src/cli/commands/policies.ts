// `portcullis policies import`: bulk-loads a policy file into the configured policy store.
import { PolicyFileError, parsePolicies, type PolicyFormat } from '../../abac/policy-json.js';
import type { PolicyStore } from '../../contracts/policies.js';
import { ConflictError } from '../../errors.js';
import { parseCommandArgs } from '../args.js';
import { UsageError, type CliIO, type Command } from '../command.js';
import { cliConfig, openConfiguredStores } from '../configured.js';

const usage = `Usage:
  portcullis policies import FILE [--format json|jsonl|yaml] [--skip-existing]
      Adds every policy of FILE to the policy store the configuration names (POLICIES_BACKEND with
      MONGODB_URI, REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS), in batches, with one change notice to running
      processes. FILE holds a JSON list (or {"policies": [...]}), JSON lines (NDJSON: one policy per line)
      or YAML, in the Portcullis or vakt JSON form; the format is guessed from the extension unless given.
      Every policy is checked before anything is written: each bad entry is printed with its index
      (from 0) and uid, and nothing is stored. A uid already stored keeps its stored policy.
      Progress goes to stderr; stdout gets {"added":N,"existing":N,"total":N}.
      Exit status: 0 all added (or, with --skip-existing, the rest already stored), 1 some uids were
      already stored, 2 bad input (nothing written).`;

const IMPORT_OPTIONS = { format: { type: 'string' }, 'skip-existing': { type: 'boolean' } } as const;
const FORMATS: readonly PolicyFormat[] = ['json', 'jsonl', 'yaml'];

/** Opens the configured policy store; `close` releases its connections. */
export type OpenPolicyStore = (
  env: Record<string, string | undefined>,
) => Promise<{ store: PolicyStore; close: () => Promise<void> }>;

export function createPoliciesCommand(openStore: OpenPolicyStore = openConfiguredStore): Command {
  return {
    name: 'policies',
    summary: 'Bulk-import ABAC policies into the policy store',
    usage,
    async run(args: string[], io: CliIO): Promise<number> {
      const [sub, ...rest] = args;
      if (sub !== 'import') {
        throw new UsageError(
          sub === undefined ? 'missing sub-command: import' : `unknown sub-command "${sub}" (import)`,
        );
      }
      const { values, positionals } = parseCommandArgs(rest, IMPORT_OPTIONS, {
        maxPositionals: 1,
        tooMany: 'give one FILE',
      });
      const file = positionals[0];
      if (file === undefined) throw new UsageError('missing FILE: the policies to import');
      const format = values.format;
      if (format !== undefined && !FORMATS.includes(format as PolicyFormat)) {
        throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
      }
      let text: string;
      try {
        text = await io.readFile(file);
      } catch (error) {
        throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
      }
      let policies;
      try {
        policies = parsePolicies(text, { source: file, ...(format && { format: format as PolicyFormat }) });
      } catch (error) {
        if (!(error instanceof PolicyFileError)) throw error;
        // Every bad entry, one per line, so that a whole file is fixed in one pass.
        for (const problem of error.errors ?? []) {
          io.stderr(`${file}: ${problem.field ? `${problem.field}: ` : ''}${problem.message}`);
        }
        io.stderr(`portcullis policies: ${error.errors?.length ?? 1} problem(s) in ${file}; nothing was imported`);
        return 2;
      }
      const { store, close } = await openStore(io.env);
      let shown = 0;
      try {
        const added = await store.addMany(policies, {
          onProgress: (done, total) => {
            // About every tenth, and the end.
            if (done < total && done - shown < total / 10) return;
            shown = done;
            io.stderr(`imported ${done}/${total}`);
          },
        });
        io.stdout(JSON.stringify({ added, existing: 0, total: policies.length }));
        return 0;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        const existing = error.errors?.map((problem) => problem.field) ?? [];
        io.stderr(
          `already stored, left as they are: ${existing.slice(0, 20).join(', ')}${existing.length > 20 ? ` and ${existing.length - 20} more` : ''}`,
        );
        io.stdout(
          JSON.stringify({
            added: policies.length - existing.length,
            existing: existing.length,
            total: policies.length,
          }),
        );
        return values['skip-existing'] === true ? 0 : 1;
      } finally {
        await close();
      }
    },
  };
}

const openConfiguredStore: OpenPolicyStore = async (env) => {
  const stores = await openConfiguredStores(cliConfig(env));
  if (stores.backends.policies === 'memory') {
    await stores.close();
    throw new UsageError(
      'no policy store configured: set MONGODB_URI, REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS (and POLICIES_BACKEND)',
    );
  }
  return { store: stores.policies, close: () => stores.close() };
};

export const policiesCommand = createPoliciesCommand();

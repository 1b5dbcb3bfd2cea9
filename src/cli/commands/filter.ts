// `portcullis filter 'QUERYSTRING' [--schema FILE]`: prints what a list querystring compiles to.
import { parse as parseYaml } from 'yaml';
import { ConfigError, ValidationError } from '../../errors.js';
import { compileSchema, openSchema, type CompiledSchema, type SchemaInput } from '../../filter/schema.js';
import { createQueryCompiler } from '../../filter/compile.js';
import { parseCommandArgs } from '../args.js';
import { UsageError, type Command } from '../command.js';

const usage = `Usage: portcullis filter 'QUERYSTRING' [--schema FILE] [--max-limit N]

Prints what a list querystring compiles to, as one JSON line:
  {"filter": {…MongoDB filter…}, "sort": {…}, "limit": N, "projection": [...]}

  --schema FILE    JSON or YAML mapping field names to types: string, number, boolean, date,
                   objectId, or an array of one ("string[]" or ["string"]). Without it every plain
                   field name is allowed and values stay strings.
  --max-limit N    Largest accepted limit (default 100).

Example: portcullis filter 'age__gt=30&status__in=["active","new"]&sort=-age' --schema fields.json`;

async function loadSchema(path: string, readFile: (path: string) => Promise<string>): Promise<CompiledSchema> {
  let text: string;
  try {
    text = await readFile(path);
  } catch {
    throw new UsageError(`cannot read the schema file ${path}`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch {
    throw new UsageError(`the schema file ${path} is not valid JSON or YAML`);
  }
  try {
    return compileSchema(parsed as SchemaInput, { option: 'schema' });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`${path}: ${error.message}`);
    throw error;
  }
}

export const filterCommand: Command = {
  name: 'filter',
  summary: 'Print the MongoDB filter, sort, limit and projection a list querystring compiles to',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      { schema: { type: 'string' }, 'max-limit': { type: 'string' } },
      { maxPositionals: 1, tooMany: 'give exactly one querystring (quote it in the shell)' },
    );
    const [querystring] = positionals;
    if (querystring === undefined) throw new UsageError('missing the querystring to compile');
    const schemaPath = values.schema;
    const maxLimit = values['max-limit'] === undefined ? 100 : Number(values['max-limit']);
    if (!Number.isInteger(maxLimit) || maxLimit < 1) throw new UsageError('--max-limit needs a positive integer');
    const schema = schemaPath ? await loadSchema(schemaPath, io.readFile) : openSchema();
    const compiler = createQueryCompiler({ schema, maxLimit, defaultLimit: Math.min(20, maxLimit) });
    try {
      const query = compiler.compile(querystring);
      const out: Record<string, unknown> = {
        filter: query.filter,
        sort: query.sort,
        limit: query.limit,
        projection: query.projection ?? null,
      };
      if (query.offset !== undefined) out.offset = query.offset;
      io.stdout(JSON.stringify(out));
      return 0;
    } catch (error) {
      if (error instanceof ValidationError) {
        const details = error.errors?.map((problem) => problem.message).join(' ') ?? error.message;
        throw new UsageError(details);
      }
      throw error;
    }
  },
};

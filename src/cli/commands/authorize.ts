// `portcullis authorize`: decides inquiries against a policy file (Portcullis JSON, YAML or vakt JSON).
import { CHECKER_NAMES, type CheckerName } from '../../abac/checkers.js';
import { Guard } from '../../abac/guard.js';
import type { Inquiry } from '../../abac/inquiry.js';
import { parsePolicies, PolicyFileError, parseDocument } from '../../abac/policy-json.js';
import type { Policy } from '../../abac/policy.js';
import { isPlainObject } from '../../abac/values.js';
import { didYouMean } from '../../errors.js';
import { parseCommandArgs } from '../args.js';
import { UsageError, type CliIO, type Command } from '../command.js';

const usage = `Usage: portcullis authorize --policies FILE [--checker rules|regex|exact|fuzzy]
                            (--inquiry FILE | --inquiries FILE.jsonl)

Decides each inquiry against the policies and prints one JSON line per inquiry:
  {"allowed": true|false, "deciders": ["uid", ...]}

  --policies FILE      A list of policies: Portcullis JSON, YAML (.yaml/.yml), or vakt's to_json output
                       (a JSON list, or one policy per line).
  --checker NAME       rules (rule-based policies), regex (vakt's <regex> strings), exact or fuzzy
                       (plain strings). Default: rules, or regex when every policy is string-based.
  --inquiry FILE       One inquiry, JSON or YAML: {"subject":…, "action":…, "resource":…, "context":{…}}.
  --inquiries FILE     JSON lines, one inquiry per line.

Exit status: 0 when every inquiry was decided (allowed or not), 2 for bad input (one line on stderr).`;

const INQUIRY_KEYS = ['subject', 'action', 'resource', 'context'];

function validateInquiry(value: unknown, where: string): Inquiry {
  if (!isPlainObject(value)) throw new UsageError(`${where}: an inquiry must be a JSON object`);
  for (const key of Object.keys(value)) {
    if (!INQUIRY_KEYS.includes(key)) {
      const hint = didYouMean(key, INQUIRY_KEYS);
      throw new UsageError(`${where}: unknown inquiry field "${key}"${hint ? ` (${hint})` : ''}`);
    }
  }
  if (value.context !== undefined && !isPlainObject(value.context)) {
    throw new UsageError(`${where}: "context" must be an object`);
  }
  return value as Inquiry;
}

async function read(io: CliIO, path: string, what: string): Promise<string> {
  try {
    return await io.readFile(path);
  } catch {
    throw new UsageError(`cannot read the ${what} file ${path}`);
  }
}

function readInquiries(text: string, path: string, lines: boolean): Inquiry[] {
  if (!lines) {
    let data: unknown;
    try {
      data = parseDocument(text, path.endsWith('.yaml') || path.endsWith('.yml') ? 'yaml' : undefined, path);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    return [validateInquiry(data, path)];
  }
  const inquiries: Inquiry[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let data: unknown;
    try {
      data = JSON.parse(line) as unknown;
    } catch {
      throw new UsageError(`${path}:${index + 1}: not valid JSON`);
    }
    inquiries.push(validateInquiry(data, `${path}:${index + 1}`));
  });
  return inquiries;
}

export const authorizeCommand: Command = {
  name: 'authorize',
  summary: 'Decide inquiries against a policy file (JSON, YAML or vakt JSON)',
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      policies: { type: 'string' },
      checker: { type: 'string' },
      inquiry: { type: 'string' },
      inquiries: { type: 'string' },
    });
    const { policies: policiesPath, inquiry: inquiryPath, inquiries: linesPath } = values;
    const checker = values.checker as CheckerName | undefined;
    if (checker !== undefined && !CHECKER_NAMES.includes(checker)) {
      throw new UsageError(`unknown checker "${checker}" (one of ${CHECKER_NAMES.join(', ')})`);
    }
    if (!policiesPath) throw new UsageError('--policies FILE is required');
    if ((inquiryPath === undefined) === (linesPath === undefined)) {
      throw new UsageError('give exactly one of --inquiry FILE or --inquiries FILE.jsonl');
    }
    let policies: Policy[];
    try {
      policies = parsePolicies(await read(io, policiesPath, 'policies'), { source: policiesPath });
    } catch (error) {
      if (error instanceof PolicyFileError) throw new UsageError(error.message);
      throw error;
    }
    const inquiries = readInquiries(
      await read(io, (inquiryPath ?? linesPath)!, 'inquiry'),
      (inquiryPath ?? linesPath)!,
      linesPath !== undefined,
    );
    const chosen = checker ?? (policies.length > 0 && policies.every((p) => p.type === 'string') ? 'regex' : 'rules');
    const guard = new Guard({ policies, checker: chosen });
    for (const inquiry of inquiries) {
      const decision = guard.decideSync(inquiry);
      io.stdout(JSON.stringify({ allowed: decision.allowed, deciders: decision.deciders }));
    }
    return 0;
  },
};

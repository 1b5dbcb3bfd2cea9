// The README walkthrough as data: rendered into README.md and replayed against `npm start` by a test.

export interface WalkthroughRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path and querystring; `{{NAME}}` is replaced by a value captured by an earlier step. */
  path: string;
  /** Headers; values may contain `{{NAME}}`. */
  headers?: Record<string, string>;
  body?: unknown;
}

export interface WalkthroughStep {
  /** Heading of the step in the README. */
  title: string;
  /** What the step shows, in a sentence or two. */
  explain: string;
  request: WalkthroughRequest;
  /** The status the demo answers with; the test checks it. */
  status: number;
  /** Checks on the JSON body; throws (chai) when the demo does not behave as the README says. */
  check?: (body: unknown, headers: Headers) => void;
  /** What the README shows of the response (a short excerpt, as JSON text or a comment). */
  shows?: string;
  /** The answer may lag (audit events are written in batches): the test retries it for a few seconds. */
  eventual?: boolean;
  /** Values to remember for later steps, e.g. a token or a record id. */
  capture?: (body: unknown) => Record<string, string>;
}

/** `{{NAME}}` placeholders are written as shell variables in the README. */
export function toShell(text: string): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_match, name: string) => `$${name}`);
}

export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`walkthrough: {{${name}}} was not captured by an earlier step`);
    return value;
  });
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The curl command a reader types for a step (with `$BASE` for the demo's address). */
export function curlFor(request: WalkthroughRequest): string {
  const parts = ['curl -s'];
  if (request.method !== 'GET') parts.push(`-X ${request.method}`);
  for (const [name, value] of Object.entries(request.headers ?? {})) parts.push(`-H "${name}: ${toShell(value)}"`);
  if (request.body !== undefined) {
    parts.push(`-H 'Content-Type: application/json'`);
    parts.push(`-d ${shellQuote(JSON.stringify(request.body))}`);
  }
  parts.push(`"$BASE${toShell(request.path)}"`);
  return parts.join(' ');
}

export function renderWalkthrough(steps: WalkthroughStep[]): string {
  const blocks = steps.map((step, index) => {
    const lines = [`#### ${index + 1}. ${step.title}`, '', step.explain, '', '```sh', curlFor(step.request), '```'];
    const shows = step.shows ? `\n${step.shows}` : '';
    lines.push('', `Answers \`${step.status}\`${step.shows ? ':' : '.'}`);
    if (shows) lines.push('', '```json', step.shows!, '```');
    return lines.join('\n');
  });
  return blocks.join('\n\n');
}

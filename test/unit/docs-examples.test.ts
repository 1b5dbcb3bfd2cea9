// Every ```ts block of README.md and docs/*.md type-checks against the package's entry points, in one
// TypeScript program: a complete example as it stands, a fragment with the names its `<!-- prelude: … -->`
// marker takes from docs/prelude.ts.
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../..', import.meta.url));
const documents = [
  'README.md',
  ...readdirSync(`${root}docs`)
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const PRELUDE = /^<!--\s*prelude:\s*([\w\s,]+?)\s*-->$/;

interface Example {
  /** Where the block's first code line is, e.g. `docs/abac.md:12`. */
  document: string;
  line: number;
  /** The virtual file the block is compiled as. */
  path: string;
  text: string;
}

/** The ```ts blocks of `document`, each with the prelude import its marker asks for as its first line. */
function examplesOf(document: string): Example[] {
  const lines = readFileSync(`${root}${document}`, 'utf8').split('\n');
  const examples: Example[] = [];
  for (let start = 0; start < lines.length; start++) {
    if (lines[start]!.trim() !== '```ts') continue;
    const end = lines.findIndex((line, index) => index > start && line.trimStart().startsWith('```'));
    if (end < 0) throw new Error(`${document}:${start + 1}: unclosed code block`);
    let before = start - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const names = PRELUDE.exec(lines[before]?.trim() ?? '')?.[1];
    // One line ahead of the block in every case, so a diagnostic's line maps back the same way.
    const preamble = names ? `import { ${names} } from '../prelude.js';` : '';
    examples.push({
      document,
      line: start + 2,
      path: `${root}docs/__examples__/${document.replaceAll('/', '_')}_${start + 2}.ts`,
      text: `${preamble}\n${lines.slice(start + 1, end).join('\n')}\nexport {};\n`,
    });
    start = end;
  }
  return examples;
}

/** Type-checks `examples` together: each problem as `document:line: message`. */
function typecheck(examples: Example[]): string[] {
  const configFile = ts.readConfigFile(`${root}tsconfig.json`, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  const byPath = new Map(examples.map((example) => [example.path, example]));
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (path) => byPath.has(path) || fileExists.call(host, path);
  host.readFile = (path) => byPath.get(path)?.text ?? readFile.call(host, path);
  host.getSourceFile = (path, language, ...rest) => {
    const example = byPath.get(path);
    return example
      ? ts.createSourceFile(path, example.text, language, true)
      : getSourceFile.call(host, path, language, ...rest);
  };
  const program = ts.createProgram({ rootNames: [...byPath.keys()], options: { ...options, noEmit: true }, host });
  const problems: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const example = diagnostic.file && byPath.get(diagnostic.file.fileName);
    if (!diagnostic.file) {
      problems.push(message);
    } else if (example) {
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      problems.push(`${example.document}:${example.line + line - 1}: ${message}`);
    } else if (diagnostic.file.fileName.startsWith(`${root}docs/`)) {
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      problems.push(`${diagnostic.file.fileName.slice(root.length)}:${line + 1}: ${message}`);
    }
  }
  return problems;
}

describe("The docs' code examples", function () {
  this.timeout(120_000);
  const examples = documents.flatMap(examplesOf);

  it('are found in README.md and docs/', function () {
    expect(examples.length).to.be.above(20);
  });

  it('type-check against the entry points (fragments with their prelude)', function () {
    expect(typecheck(examples)).to.deep.equal([]);
  });
});

// The CLI shell: help, version, unknown commands and usage errors with exit status 2.
import { expect } from 'chai';
import { UsageError, type CliIO, type Command } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/run.js';
import { version } from '../../../src/version.js';

function capture(): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
    readFile: async () => '',
    env: {},
  };
}

const echo: Command = {
  name: 'echo',
  summary: 'Print the arguments',
  usage: 'portcullis echo WORD...',
  async run(args, io) {
    if (args.length === 0) throw new UsageError('needs at least one word\nsecond line never printed');
    io.stdout(args.join(' '));
    return 0;
  },
};

describe('portcullis CLI', function () {
  it('prints help listing the commands, exit 0', async function () {
    const io = capture();
    expect(await runCli(['--help'], io, [echo])).to.equal(0);
    expect(io.out.join('\n')).to.include('echo').and.include('Print the arguments');
  });

  it('prints the package version', async function () {
    const io = capture();
    expect(await runCli(['--version'], io, [echo])).to.equal(0);
    expect(io.out).to.deep.equal([version]);
    expect(version).to.match(/^\d+\.\d+\.\d+/);
  });

  it('answers an unknown command with one line, a suggestion and exit 2', async function () {
    const io = capture();
    expect(await runCli(['ecko'], io, [echo])).to.equal(2);
    expect(io.err).to.have.length(1);
    expect(io.err[0]).to.include('unknown command "ecko"').and.include('did you mean echo?');
  });

  it('turns a usage error into one line and exit 2', async function () {
    const io = capture();
    expect(await runCli(['echo'], io, [echo])).to.equal(2);
    expect(io.err).to.deep.equal(['portcullis echo: needs at least one word']);
  });

  it('runs a command and prints its usage on --help', async function () {
    const io = capture();
    expect(await runCli(['echo', 'a', 'b'], io, [echo])).to.equal(0);
    expect(await runCli(['echo', '--help'], io, [echo])).to.equal(0);
    expect(io.out).to.deep.equal(['a b', 'portcullis echo WORD...']);
  });

  it('exits 2 with help when no command is given', async function () {
    const io = capture();
    expect(await runCli([], io, [echo])).to.equal(2);
  });
});

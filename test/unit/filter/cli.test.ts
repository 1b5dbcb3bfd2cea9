// `portcullis filter`: prints the compiled query as JSON; bad input is one line and exit status 2.
import { expect } from 'chai';
import { runCli } from '../../../src/cli/run.js';
import { io } from '../../support/cli-io.js';

describe('portcullis filter', function () {
  it('prints filter, sort, limit and projection with schema typing', async function () {
    const cli = io({ 'fields.json': JSON.stringify({ age: 'number', name: 'string', tags: ['string'] }) });
    const status = await runCli(
      [
        'filter',
        'age__gt=30&name__startswith=Jo&tags__in=["a"]&sort=-age&limit=5&fields=name',
        '--schema',
        'fields.json',
      ],
      cli.io,
    );
    expect(status).to.equal(0);
    expect(JSON.parse(cli.out[0]!)).to.deep.equal({
      filter: { age: { $gt: 30 }, name: { $regex: '^Jo' }, tags: { $in: ['a'] } },
      sort: { age: -1, id: -1 },
      limit: 5,
      projection: ['id', 'name'],
    });
  });

  it('keeps values as strings without a schema', async function () {
    const cli = io();
    expect(await runCli(['filter', 'age__gt=30'], cli.io)).to.equal(0);
    expect(JSON.parse(cli.out[0]!).filter).to.deep.equal({ age: { $gt: '30' } });
  });

  it('takes option values inline (--name=value) as well as after the option', async function () {
    const cli = io({ 'fields.json': '{"age":"number"}' });
    expect(await runCli(['filter', 'limit=50', '--schema=fields.json', '--max-limit=40'], cli.io)).to.equal(2);
    expect(cli.err[0]).to.match(/"limit" must be an integer from 1 to 40/);
    const ok = io({ 'fields.json': '{"age":"number"}' });
    expect(await runCli(['filter', 'age=3', '--max-limit=40', '--schema', 'fields.json'], ok.io)).to.equal(0);
    expect(JSON.parse(ok.out[0]!)).to.include({ limit: 20 });
  });

  it('reads YAML schemas', async function () {
    const cli = io({ 'fields.yaml': 'born: date\nok: boolean\n' });
    expect(await runCli(['filter', 'ok=true&born__lt=2020-01-01', '--schema', 'fields.yaml'], cli.io)).to.equal(0);
    expect(JSON.parse(cli.out[0]!).filter).to.deep.equal({ ok: true, born: { $lt: '2020-01-01T00:00:00.000Z' } });
  });

  for (const [args, pattern] of [
    [['filter', 'a[$ne]=1'], /bracket/],
    [['filter', 'age__gt=x', '--schema', 'fields.json'], /age__gt.*number/],
    [['filter', 'x=1', '--schema', 'missing.json'], /cannot read/],
    [['filter', 'x=1', '--schema', 'bad.json'], /bad\.json.*unknown type/],
    [['filter'], /missing the querystring/],
    [['filter', 'x=1', '--bogus'], /unknown option/],
    [['filter', 'x=1', '--shema', 'fields.json'], /unknown option --shema \(did you mean --schema\?\)/],
    [['filter', 'x=1', '--schema', '--max-limit', '5'], /--schema needs a value/],
    // A negative number is a value, refused by the option's own check rather than taken for an option.
    [['filter', 'x=1', '--max-limit', '-5'], /--max-limit needs a positive integer/],
    [['filter', 'x=1', 'y=2'], /give exactly one querystring/],
    [['filter', 'status__frobnicate=1'], /Unknown operator "frobnicate" in "status__frobnicate"/],
    [['filter', 'name__regex=.*'], /Unknown operator "regex" in "name__regex"/],
    [['filter', 'age__gtt=3'], /Unknown operator "gtt" in "age__gtt" \(did you mean gte?\?\)/],
  ] as [string[], RegExp][]) {
    it(`exits 2 with one line for ${args.slice(1).join(' ') || '(nothing)'}`, async function () {
      const cli = io({ 'fields.json': '{"age":"number"}', 'bad.json': '{"age":"numbr"}' });
      expect(await runCli(args, cli.io)).to.equal(2);
      expect(cli.err).to.have.length(1);
      expect(cli.err[0]).to.match(pattern);
    });
  }
});

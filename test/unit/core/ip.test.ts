// The one IP module: literal parsing, IPv4-mapped IPv6 normalisation, and every user of it agreeing.
import { expect } from 'chai';
import type { Request } from 'express';
import { addressKey } from '../../../middleware/rate-limit.js';
import { createProxyTrust } from '../../../src/auth/proxy-trust.js';
import { ConfigError, rules } from 'portcullis';
import { normalizeInquiry } from '../../../src/abac/inquiry.js';
import { clientAddress, ipRangesFrom, IpRanges, parseIpAddress, parseIpRange } from '../../../src/ip.js';

const inquiry = normalizeInquiry({ subject: {}, action: 'a', resource: {}, context: {} });

describe('ip module', function () {
  it('turns every spelling of an IPv4-mapped IPv6 address into the IPv4 address', function () {
    for (const mapped of [
      '::ffff:127.0.0.1',
      '::FFFF:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:7F00:0001',
      '0:0:0:0:0:ffff:7f00:1',
      '0000:0000:0000:0000:0000:ffff:127.0.0.1',
      '::0:ffff:127.0.0.1',
    ]) {
      expect(parseIpAddress(mapped), mapped).to.deep.equal({ address: '127.0.0.1', family: 4 });
    }
    expect(parseIpAddress('127.0.0.1')).to.deep.equal({ address: '127.0.0.1', family: 4 });
  });

  it('leaves other IPv6 addresses, including ffff groups elsewhere, as IPv6', function () {
    for (const address of [
      '::1',
      '2001:db8::ffff:7f00:1',
      'ffff::1',
      '::ffff:0:7f00:1',
      '::127.0.0.1',
      '64:ff9b::7f00:1',
    ]) {
      expect(parseIpAddress(address), address).to.deep.equal({ address, family: 6 });
    }
  });

  it('refuses anything but a literal address', function () {
    for (const bad of [
      '',
      'localhost',
      '127.0.0.1 ',
      ' ::1',
      '127.000.0.1',
      '01.2.3.4',
      '1.2.3',
      '256.0.0.1',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      'fe80::1%eth0',
      '::ffff:127.0.0.1%1',
      '::ffff:1.2.3',
      `${'0:'.repeat(30)}1`,
      12,
      null,
      undefined,
      ['127.0.0.1'],
      { toString: () => '127.0.0.1' },
    ]) {
      expect(parseIpAddress(bad), String(bad)).to.equal(undefined);
    }
  });

  it('parses ranges, normalising mapped ranges of /96 or narrower to IPv4', function () {
    expect(parseIpRange('10.1.2.3/8')).to.deep.equal({ address: '10.1.2.3', family: 4, prefix: 8 });
    expect(parseIpRange('10.1.2.3')).to.deep.equal({ address: '10.1.2.3', family: 4, prefix: 32 });
    expect(parseIpRange('::ffff:127.0.0.0/104')).to.deep.equal({ address: '127.0.0.0', family: 4, prefix: 8 });
    expect(parseIpRange('::ffff:7f00:0/104')).to.deep.equal({ address: '127.0.0.0', family: 4, prefix: 8 });
    expect(parseIpRange('::ffff:0:0/96')).to.deep.equal({ address: '0.0.0.0', family: 4, prefix: 0 });
    expect(parseIpRange('::ffff:0:0/64')).to.deep.equal({ address: '::ffff:0:0', family: 6, prefix: 64 });
    expect(parseIpRange('::/0')).to.deep.equal({ address: '::', family: 6, prefix: 0 });
    for (const bad of [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/',
      '/8',
      '10.0.0.0/8/1',
      '10.0.0.0/-1',
      '10.0.0.0/1e1',
      'x/8',
    ]) {
      expect(parseIpRange(bad), bad).to.equal(undefined);
    }
  });

  it('clientAddress gives one spelling per client, drops a port a proxy appended, and refuses the rest', function () {
    expect(clientAddress('::ffff:10.0.0.1')).to.equal('10.0.0.1');
    expect(clientAddress('::ffff:a00:1')).to.equal('10.0.0.1');
    expect(clientAddress('::1')).to.equal('::1');
    expect(clientAddress('10.1.2.3:1234')).to.equal('10.1.2.3');
    expect(clientAddress('[::ffff:10.1.2.3]')).to.equal('10.1.2.3');
    expect(clientAddress('[2001:db8::1]:443')).to.equal('2001:db8::1');
    for (const junk of [
      'not an address',
      '010.1.2.3',
      '10.1.2.3%eth0',
      '167838211',
      '10.1.2.3:1234:5',
      '[10.1.2.3]x',
      '',
    ]) {
      expect(clientAddress(junk), junk).to.equal(undefined);
    }
    expect(clientAddress(undefined)).to.equal(undefined);
  });

  it('names the configuration entry that is wrong', function () {
    expect(() => ipRangesFrom(['10.0.0.1', 'proxy.local'], 'TRUSTED_PROXIES'))
      .to.throw(ConfigError, /not an IP address/)
      .with.property('option', 'TRUSTED_PROXIES[1]');
    expect(() => ipRangesFrom(['10.0.0.0/33'], 'TRUSTED_PROXIES')).to.throw(ConfigError, /prefix length/);
  });

  // One table, every user of the module: the trusted proxy list and IpRanges itself, and ABAC's CIDR rule,
  // which answers as vakt (Python's ipaddress: families as written, strict blocks) where the fourth column says.
  const table: [range: string, address: unknown, inside: boolean, vakt?: boolean][] = [
    ['127.0.0.0/8', '127.0.0.1', true],
    ['127.0.0.0/8', '::ffff:127.0.0.1', true, false],
    ['127.0.0.0/8', '::ffff:7f00:1', true, false],
    ['127.0.0.0/8', '0:0:0:0:0:ffff:7f00:1', true, false],
    ['127.0.0.0/8', '::FFFF:127.9.9.9', true, false],
    ['127.0.0.0/8', '::ffff:128.0.0.1', false],
    ['127.0.0.0/8', '::127.0.0.1', false],
    ['127.0.0.0/8', '::1', false],
    ['127.0.0.0/8', 'fe80::1%lo', false],
    ['127.0.0.0/8', '127.0.0.1 ', false],
    ['::ffff:127.0.0.0/104', '127.0.0.1', true, false],
    ['::ffff:127.0.0.0/104', '::ffff:127.0.0.1', true],
    ['::ffff:127.0.0.0/104', '128.0.0.1', false],
    ['::ffff:0:0/96', '8.8.8.8', true, false],
    ['::ffff:0:0/96', '::ffff:10.1.2.3', true],
    ['::ffff:0:0/96', '::1', false],
    ['::/0', '2001:db8::1', true],
    ['::/0', '10.0.0.1', false],
    ['::/0', '::ffff:10.0.0.1', false, true],
    ['0.0.0.0/0', '::ffff:10.0.0.1', true, false],
    ['0.0.0.0/0', '2001:db8::1', false],
    ['10.0.0.5/8', '10.200.0.1', true, false],
    ['10.0.0.5', '10.0.0.5', true],
    ['10.0.0.5', '::ffff:a00:5', true, false],
    ['10.0.0.5', '10.0.0.6', false],
    ['::1', '::1', true],
    ['::1', '0:0:0:0:0:0:0:1', true],
    ['::1', '127.0.0.1', false],
    ['2001:db8::/32', '2001:DB8:1::7', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['10.0.0.0/8', 167772161, false],
    ['10.0.0.0/8', null, false],
  ];

  it('answers one table the same way in proxy trust and IpRanges, and as vakt in the CIDR rule', function () {
    for (const [range, address, inside, vakt = inside] of table) {
      const label = `${range} ∋ ${String(address)}`;
      expect(rules.CIDR(range).satisfied(address, inquiry), `CIDR ${label}`).to.equal(vakt);
      expect(createProxyTrust([range]).trusts(address as string), `proxy ${label}`).to.equal(inside);
      expect(new IpRanges([parseIpRange(range)!]).has(address), `IpRanges ${label}`).to.equal(inside);
    }
  });

  it('gives IPv4 and IPv4-mapped clients the address the rate limiter counts them under', function () {
    // The rate limiter keys on express-rate-limit's ipKeyGenerator; for these clients both must agree.
    for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '::FFFF:7F00:1', '0:0:0:0:0:ffff:a00:1', '::ffff:192.0.2.7']) {
      expect(addressKey({ ip } as Request), ip).to.equal(clientAddress(ip));
    }
    // The deprecated IPv4-compatible form (::a.b.c.d) stays IPv6 for rules: it is no IPv4 client's address,
    // and reading it as IPv4 would let it into IPv4 allow rules. express-rate-limit's key merely counts it
    // under the IPv4 address, which only shares that client's counter.
    expect(clientAddress('::127.0.0.1')).to.equal('::127.0.0.1');
    expect(addressKey({ ip: '::127.0.0.1' } as Request)).to.equal('127.0.0.1');
  });

  it('matches a list of ranges of both families', function () {
    const ranges = ipRangesFrom(['10.0.0.0/8', '::1', '::ffff:192.168.0.0/112'], 'list');
    expect(ranges.size).to.equal(3);
    for (const address of ['10.1.1.1', '::ffff:10.1.1.1', '::1', '192.168.3.4', '::ffff:c0a8:304']) {
      expect(ranges.has(address), address).to.equal(true);
    }
    for (const address of ['11.0.0.1', '::2', '192.169.0.1', 'localhost']) {
      expect(ranges.has(address), address).to.equal(false);
    }
    expect(ipRangesFrom([], 'list').has('127.0.0.1')).to.equal(false);
  });
});

// Every built-in rule against vakt's documented examples and edge cases: missing, wrong type, ci, empty lists.
import { expect } from 'chai';
import { normalizeInquiry } from '../../../src/abac/inquiry.js';
import { rules, UnfitValueError, type Rule } from 'portcullis';

const {
  Eq,
  NotEq,
  Greater,
  Less,
  GreaterOrEqual,
  LessOrEqual,
  Truthy,
  Falsy,
  Not,
  And,
  Or,
  Any,
  Neither,
  In,
  NotIn,
  AllIn,
  AllNotIn,
  AnyIn,
  AnyNotIn,
  CIDR,
  Equal,
  StrEqual,
  PairsEqual,
  RegexMatch,
  StartsWith,
  EndsWith,
  Contains,
  SubjectMatch,
  ActionMatch,
  ResourceMatch,
  SubjectEqual,
  ActionEqual,
  ResourceIn,
} = rules;

const empty = normalizeInquiry({});
const sat = (rule: Rule, value: unknown, inquiry = empty) => rule.satisfied(value, inquiry);
// Where vakt raises (the policy field then does not fit; in the context the decision denies).
const raises = (rule: Rule, value: unknown) => expect(() => rule.satisfied(value, empty)).to.throw(UnfitValueError);

describe('abac rules', function () {
  describe('comparison', function () {
    it("Eq and NotEq compare deeply with Python's ==", function () {
      expect(sat(Eq(40), 40)).to.be.true;
      expect(sat(Eq(40), 41)).to.be.false;
      expect(sat(Eq(40), '40')).to.be.false;
      // Python: True == 1 and False == 0.
      expect(sat(Eq(1), true)).to.be.true;
      expect(sat(Eq(false), 0)).to.be.true;
      expect(sat(NotEq(1), true)).to.be.false;
      expect(sat(Eq(2), true)).to.be.false;
      expect(sat(Eq(['a', { b: 1 }]), ['a', { b: 1 }])).to.be.true;
      expect(sat(Eq({ b: 1 }), { b: 1, c: 2 })).to.be.false;
      expect(sat(Eq(null), undefined)).to.be.false;
      expect(sat(NotEq(40), 40)).to.be.false;
      expect(sat(NotEq(40), 41)).to.be.true;
      // Different types are never equal, so NotEq holds (vakt: 40 != '40').
      expect(sat(NotEq(40), '40')).to.be.true;
    });

    it('orderings compare numbers (booleans among them) with numbers and strings with strings; across types they raise', function () {
      expect(sat(Greater(6.2), 5.8)).to.be.false;
      expect(sat(Greater(6.2), 6.3)).to.be.true;
      expect(sat(Less(6.2), 5.8)).to.be.true;
      expect(sat(GreaterOrEqual(300), 77)).to.be.false;
      expect(sat(GreaterOrEqual(300), 300)).to.be.true;
      expect(sat(LessOrEqual(300), 300)).to.be.true;
      expect(sat(LessOrEqual(300), 301)).to.be.false;
      raises(Greater(9), '10');
      raises(Less(9), '1');
      expect(sat(Greater('b'), 'c')).to.be.true;
      raises(Greater(1), null);
      raises(Greater(1), [5]);
      raises(Less(1), Number.NaN);
      expect(sat(Greater(0), true)).to.be.true;
      expect(sat(GreaterOrEqual(true), 1)).to.be.true;
      raises(Not(Greater(1)), 'x');
      expect(() => Greater({} as never)).to.throw(/number, a string or a boolean/);
    });
  });

  describe('logic', function () {
    it('Truthy and Falsy follow Python truthiness', function () {
      for (const value of [true, 1, 'x', [0], { a: 1 }]) expect(sat(Truthy(), value), String(value)).to.be.true;
      for (const value of [false, 0, '', [], {}, null, undefined]) {
        expect(sat(Truthy(), value)).to.be.false;
        expect(sat(Falsy(), value)).to.be.true;
      }
    });

    it('Not, And, Or, Any, Neither', function () {
      expect(sat(Not(Greater(90)), 40)).to.be.true;
      expect(sat(Not(Greater(90)), 91)).to.be.false;
      expect(sat(And(Greater(50), Less(89)), 78)).to.be.true;
      expect(sat(And(Greater(50), Less(89)), 89)).to.be.false;
      expect(sat(Or(Greater(50), Less(120), Eq(8888)), 78)).to.be.true;
      expect(sat(Or(Eq(1), Eq(2)), 3)).to.be.false;
      // vakt: `len(answers) > 0 and all(answers)`.
      expect(sat(And(), 'x')).to.be.false;
      expect(sat(Not(And()), 'x')).to.be.true;
      expect(sat(Or(), 'x')).to.be.false;
      expect(sat(Any(), 'get')).to.be.true;
      expect(sat(Any(), undefined)).to.be.true;
      expect(sat(Neither(), 'Max')).to.be.false;
    });
  });

  describe('lists', function () {
    it('In and NotIn', function () {
      expect(sat(In('get', 'post'), 'get')).to.be.true;
      expect(sat(In('get', 'post'), 'put')).to.be.false;
      expect(sat(In(1, 2), '1')).to.be.false;
      expect(sat(In(1, 2), true)).to.be.true;
      expect(sat(In(true), 1)).to.be.true;
      // A list or object is not hashable: vakt's `what in set` raises.
      raises(In([1], { a: 1 }), { a: 1 });
      raises(NotIn('a'), ['a']);
      expect(sat(In(), 'x')).to.be.false;
      expect(sat(NotIn('get', 'post'), 'get')).to.be.false;
      expect(sat(NotIn('get', 'post'), 'put')).to.be.true;
      expect(sat(NotIn(), 'x')).to.be.true;
    });

    it("AllIn, AllNotIn, AnyIn, AnyNotIn need a list and follow vakt's set operations", function () {
      expect(sat(AllIn('Max', 'Joe'), ['Max', 'Joe'])).to.be.true;
      expect(sat(AllIn('Max', 'Joe'), ['Max', 'Bob'])).to.be.false;
      expect(sat(AllIn('Max'), [])).to.be.true;
      raises(AllIn('Max'), 'Max');
      expect(sat(AllNotIn('Max', 'Joe'), ['Max', 'Joe'])).to.be.false;
      expect(sat(AllNotIn('Max', 'Joe'), ['Bob'])).to.be.true;
      // vakt's AllNotIn is "not all in": one outsider is enough, and [] is all in.
      expect(sat(AllNotIn('Max', 'Joe'), ['Max', 'Bob'])).to.be.true;
      expect(sat(AllNotIn('Max'), [])).to.be.false;
      expect(sat(Not(AllNotIn()), [])).to.be.true;
      expect(sat(AnyIn(5.9, 7.5, 4.9), [7.55])).to.be.false;
      expect(sat(AnyIn(5.9, 7.5, 4.9), [7.55, 7.5])).to.be.true;
      expect(sat(AnyIn(1), [])).to.be.false;
      expect(sat(AnyNotIn(5.9, 7.5, 4.9), [7.55])).to.be.true;
      expect(sat(AnyNotIn(5.9), [5.9])).to.be.false;
      expect(sat(AnyNotIn(5.9), [])).to.be.false;
      raises(AnyIn('a'), { 0: 'a' });
      raises(AnyIn('a'), [['a']]);
    });
  });

  describe('network', function () {
    it('CIDR matches IPv4 and IPv6 addresses of the same family only', function () {
      expect(sat(CIDR('192.168.2.0/24'), '192.168.2.4')).to.be.true;
      expect(sat(CIDR('192.168.2.0/24'), '192.168.3.4')).to.be.false;
      // Python's ip_network is strict: host bits set raise, so the rule never fits.
      expect(sat(CIDR('192.168.0.15/24'), '192.168.0.200')).to.be.false;
      expect(sat(CIDR('192.168.0.15/24'), '192.168.0.15')).to.be.false;
      expect(sat(CIDR('192.168.0.15'), '192.168.0.15')).to.be.true;
      // Families as written: an IPv4-mapped address is IPv6, inside ::/0 and outside any IPv4 network.
      expect(sat(CIDR('0.0.0.0/0'), '::ffff:10.1.2.3')).to.be.false;
      expect(sat(CIDR('::/0'), '::ffff:10.1.2.3')).to.be.true;
      expect(sat(CIDR('127.0.0.1/32'), '127.0.0.1')).to.be.true;
      expect(sat(CIDR('0.0.0.0/0'), '8.8.8.8')).to.be.true;
      expect(sat(CIDR('2001:db8::/32'), '2001:db8:1::7')).to.be.true;
      expect(sat(CIDR('2001:db8::/32'), '2001:db9::1')).to.be.false;
      expect(sat(CIDR('::ffff:0:0/96'), '::ffff:10.1.2.3')).to.be.true;
      expect(sat(CIDR('::/0'), '10.0.0.1')).to.be.false;
      for (const bad of ['192.168.2.300', '192.168.2', 'localhost', '', 12, null, '192.168.2.4 ', '1::2::3']) {
        expect(sat(CIDR('0.0.0.0/0'), bad), String(bad)).to.be.false;
      }
      for (const invalid of ['10.0.0.0/33', '10.0.0/8', 'x/8', '::/129', '10.0.0.0/8/1']) {
        expect(() => CIDR(invalid), invalid).to.throw(/not a valid/);
      }
    });
  });

  describe('strings', function () {
    it('Equal (alias StrEqual) checks the type and supports case-insensitivity', function () {
      expect(sat(Equal('max', { ci: true }), 'Max')).to.be.true;
      expect(sat(Equal('max'), 'Max')).to.be.false;
      expect(sat(StrEqual('max'), 'max')).to.be.true;
      expect(sat(Equal('1'), 1)).to.be.false;
    });

    it('PairsEqual needs a list of equal string pairs', function () {
      expect(sat(PairsEqual(), [['Bob', 'Bob']])).to.be.true;
      expect(
        sat(PairsEqual(), [
          ['Bob', 'Bob'],
          ['a', 'b'],
        ]),
      ).to.be.false;
      expect(sat(PairsEqual(), [])).to.be.true;
      expect(sat(PairsEqual(), [['a']])).to.be.false;
      expect(sat(PairsEqual(), [[1, 1]])).to.be.false;
      expect(sat(PairsEqual(), 'Bob')).to.be.false;
    });

    it("RegexMatch is Python's re.match on str(value): anchored at the start only", function () {
      // vakt's own README example: re.match does not search, so '\.rb$' never fits 'test.rb'.
      expect(sat(RegexMatch('\\.rb$'), 'test.rb')).to.be.false;
      expect(sat(RegexMatch('.*\\.rb$'), 'test.rb')).to.be.true;
      expect(sat(RegexMatch('.*\\.rb$'), 'test.py')).to.be.false;
      expect(sat(RegexMatch('b'), 'ab')).to.be.false;
      expect(sat(RegexMatch('a|b'), 'ba')).to.be.true;
      expect(sat(RegexMatch('1'), 12)).to.be.true;
      expect(sat(RegexMatch('True'), true)).to.be.true;
      expect(sat(RegexMatch('None'), null)).to.be.true;
      expect(sat(RegexMatch("\\[1, 'a'\\]"), [1, 'a'])).to.be.true;
      expect(() => RegexMatch('(')).to.throw(/invalid regular expression/);
      expect(() => RegexMatch('(a)\\1')).to.throw(/unsupported regular expression .*backreference/);
      expect(sat(RegexMatch('(a+)+$'), 'a'.repeat(1000) + '!')).to.be.false;
    });

    it('StartsWith, EndsWith and Contains, with ci', function () {
      expect(sat(StartsWith('logs-'), 'logs-data-101967.log')).to.be.true;
      expect(sat(StartsWith('Logs-'), 'logs-data')).to.be.false;
      expect(sat(StartsWith('Logs-', { ci: true }), 'logs-data')).to.be.true;
      expect(sat(EndsWith('.log'), 'logs-data-101967.log')).to.be.true;
      expect(sat(EndsWith('.LOG', { ci: true }), 'a.log')).to.be.true;
      expect(sat(EndsWith('.LOG'), 'a.log')).to.be.false;
      expect(sat(Contains('sun'), 'observations-sunny-days.csv')).to.be.true;
      expect(sat(Contains('SUN', { ci: true }), 'sunny')).to.be.true;
      expect(sat(Contains('SUN'), 'sunny')).to.be.false;
      for (const rule of [StartsWith('1'), EndsWith('1'), Contains('1')]) expect(sat(rule, 1)).to.be.false;
    });
  });

  describe('inquiry', function () {
    it('SubjectMatch, ActionMatch, ResourceMatch compare with the whole value or one attribute', function () {
      const inquiry = normalizeInquiry({
        subject: 'Max',
        action: { method: 'get', id: 'Max' },
        resource: { res: 'book', id: 'Max' },
      });
      expect(sat(SubjectMatch(), 'Max', inquiry)).to.be.true;
      expect(sat(SubjectMatch(), 'Joe', inquiry)).to.be.false;
      expect(sat(ActionMatch('id'), 'Max', inquiry)).to.be.true;
      expect(sat(ResourceMatch('id'), 'Max', inquiry)).to.be.true;
      expect(sat(ResourceMatch('owner'), undefined, inquiry)).to.be.false;
      expect(sat(SubjectMatch('id'), 'Max', inquiry)).to.be.false;
      expect(sat(ResourceMatch('constructor'), Object, inquiry)).to.be.false;
    });

    it('SubjectEqual, ActionEqual, ResourceIn work on strings', function () {
      const inquiry = normalizeInquiry({ subject: 'Max', action: 'get', resource: '/books/' });
      expect(sat(SubjectEqual(), 'Max', inquiry)).to.be.true;
      expect(sat(SubjectEqual(), 'Joe', inquiry)).to.be.false;
      expect(sat(ActionEqual(), 'get', inquiry)).to.be.true;
      expect(sat(ResourceIn(), ['/books/', '/magazines/'], inquiry)).to.be.true;
      expect(sat(ResourceIn(), ['/magazines/'], inquiry)).to.be.false;
      expect(sat(SubjectEqual(), 'x', normalizeInquiry({ subject: { id: 'x' } }))).to.be.false;
    });
  });

  it('serializes every rule to {type, ...fields}', function () {
    expect(Eq(40).toJSON()).to.deep.equal({ type: 'Eq', value: 40 });
    expect(And(Greater(50), Less(999)).toJSON()).to.deep.equal({
      type: 'And',
      rules: [
        { type: 'Greater', value: 50 },
        { type: 'Less', value: 999 },
      ],
    });
    expect(Not(In('a')).toJSON()).to.deep.equal({ type: 'Not', rule: { type: 'In', values: ['a'] } });
    expect(StartsWith('x', { ci: true }).toJSON()).to.deep.equal({ type: 'StartsWith', value: 'x', ci: true });
    expect(ResourceMatch('id').toJSON()).to.deep.equal({ type: 'ResourceMatch', attribute: 'id' });
    expect(CIDR('10.0.0.0/8').toJSON()).to.deep.equal({ type: 'CIDR', cidr: '10.0.0.0/8' });
  });
});

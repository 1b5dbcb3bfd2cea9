"""Writes test/fixtures/vakt/*.json: policies (vakt's to_json), inquiries and vakt 1.6's own decisions.

Run: python3 -m venv /tmp/vakt-venv && /tmp/vakt-venv/bin/pip install vakt==1.6.0
     /tmp/vakt-venv/bin/python scripts/vakt-fixtures/generate.py
The output is deterministic (seeded); test/unit/abac/vakt-differential.test.ts replays it without Python.
"""
import json
import logging
import os
import random
import sys

import vakt
from vakt.rules.string import Equal, StartsWith, EndsWith, Contains, PairsEqual, RegexMatch
from vakt.rules import (CIDR, And, AllIn, AllNotIn, Any, AnyIn, AnyNotIn, Eq, Falsy,
                        Greater, GreaterOrEqual, In, Less, LessOrEqual, Neither, Not, NotEq, NotIn, Or,
                        Truthy)

logging.disable(logging.CRITICAL)  # vakt logs every failed rule; the fixtures record the outcome
assert vakt.version.version_info()[:2] == (1, 6), 'the fixtures are vakt 1.6 decisions'

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'vakt')
CHECKERS = {
    'rules': vakt.RulesChecker,
    'regex': vakt.RegexChecker,
    'exact': vakt.StringExactChecker,
    'fuzzy': vakt.StringFuzzyChecker,
}


def decide(policies, checker, inquiry):
    storage = vakt.MemoryStorage()
    for p in policies:
        storage.add(p)
    guard = vakt.Guard(storage, CHECKERS[checker]())
    return guard.is_allowed(vakt.Inquiry(**inquiry))


def variant(policies, checker, inquiries, note, refused=None):
    """One policy set and vakt's decision on each inquiry. `refused`: Portcullis refuses these policies at
    import (a difference listed in docs/abac.md); vakt's decisions are kept for the record."""
    return {
        'note': note,
        **({'refused': refused} if refused else {}),
        'policies': [json.loads(p.to_json()) for p in policies],
        'allowed': [decide(policies, checker, q) for q in inquiries],
    }


def case(policies, checker, inquiries, note='', refused=None):
    return {'checker': checker, 'inquiries': inquiries, 'sets': [variant(policies, checker, inquiries, note, refused)]}


def allow(uid, **fields):
    return vakt.Policy(str(uid), effect=vakt.ALLOW_ACCESS, **fields)


def deny(uid, **fields):
    return vakt.Policy(str(uid), effect=vakt.DENY_ACCESS, **fields)


def q(subject='s', action='a', resource='r', context=None):
    return {'subject': subject, 'action': action, 'resource': resource, 'context': context or {}}


def rule_field(rule):
    """A policy whose resources are decided by `rule` alone (every other field Any)."""
    return dict(subjects=[Any()], actions=[Any()], resources=[rule])


def rule_cases(rng, rules, values, note, deny_too=True):
    """Each rule on resources and in context, as an allow and (behind a catch-all allow) as a deny."""
    cases = []
    inquiries = [q(resource=v, context={'k': v}) for v in values]
    for rule in rules:
        in_context = dict(subjects=[Any()], actions=[Any()], resources=[Any()], context={'k': rule})
        sets = [([allow(1, **rule_field(rule))], 'resources allow'), ([allow(1, **in_context)], 'context allow')]
        if deny_too:
            sets += [([allow(1, **rule_field(Any())), deny(2, **rule_field(rule))], 'resources deny'),
                     ([allow(1, **rule_field(Any())), deny(2, **in_context)], 'context deny')]
        cases.append({'checker': 'rules', 'inquiries': inquiries,
                      'sets': [variant(p, 'rules', inquiries, f'{note}: {name}') for p, name in sets]})
    return cases


# ---- regular expressions within the syntax Python's re and Portcullis' engine share ------------------
ALPHABET = 'ab1-'


def rand_regex(rng, depth=0):
    parts = []
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.35 or depth > 1:
            atom = rng.choice(['a', 'b', '1', '\\-', '.', '[ab]', '[^a]', '\\d', '[a-b1]'])
        elif r < 0.55:
            atom = '(?:%s|%s)' % (rand_regex(rng, depth + 1), rand_regex(rng, depth + 1))
        else:
            atom = '(?:%s)' % rand_regex(rng, depth + 1)
        quant = rng.choice(['', '', '', '*', '+', '?', '{1,2}', '{2}'])
        parts.append(atom + quant)
    text = ''.join(parts)
    if depth == 0:
        if rng.random() < 0.2:
            text = '^' + text
        if rng.random() < 0.2:
            text = text + '$'
    return text


def rand_text(rng, n=5):
    return ''.join(rng.choice(ALPHABET) for _ in range(rng.randint(0, n)))


def regex_match(rng):
    hand = ['a', 'b+', 'a|b', '^a', 'a$', '.*', '', '1', 'True', 'None', '\\d+', '(?:ab)+', 'x?a']
    rules = [RegexMatch(p) for p in hand] + [RegexMatch(rand_regex(rng)) for _ in range(16)]
    values = ['a', 'ba', 'ab', 'b', '', 'aa1', 'xa', '1', 'True', 'None', 'bab-1', 1, 12, True, False, None]
    values += [rand_text(rng) for _ in range(6)]
    return rule_cases(rng, rules, values, 'RegexMatch', deny_too=False) + rule_cases(
        rng, rules[:13], values, 'RegexMatch hand')


def logic(rng):
    rules = [And(), Or(), Not(And()), Not(Or()), And(Any()), Or(Neither()), Not(And(Any(), Neither())),
             And(Not(And())), Or(And(), Any()), Not(Not(And())), And(Eq('r'), Or()), Or(And(), Eq('r'))]
    values = ['r', 'x', 1, None, True, []]
    return rule_cases(rng, rules, values, 'logic')


def lists_empty(rng):
    rules = [AllIn(), AllNotIn(), AnyIn(), AnyNotIn(), AllIn('a'), AllNotIn('a'), AnyIn('a'), AnyNotIn('a'),
             Not(AllIn()), Not(AllNotIn()), Not(AllNotIn('a')), In(), NotIn()]
    values = [[], ['a'], ['b'], ['a', 'b'], 'a', 1, None]
    return rule_cases(rng, rules, values, 'lists on empty lists')


def lists_members(rng):
    rules = [In(1, 2), In('1', 2), NotIn(1), In(True), In(0), AllIn(1, 2), AllNotIn(1, 2), AnyIn(1, 2),
             AnyNotIn(1, 2), In(1.5), AllIn('a', 1), Eq(1), Eq(True), NotEq(1)]
    values = [1, 2, '1', '2', True, False, 0, 1.0, 1.5, [1], [1, 2], [2, 3], [True], ['1'], [1, '1'], [], None]
    return rule_cases(rng, rules, values, 'lists with integer members')


def cidr(rng):
    nets = ['10.0.0.1/8', '10.0.0.0/8', '0.0.0.0/0', '::/0', '::ffff:0:0/96', '::ffff:10.0.0.0/104', '10.1.2.3',
            '192.168.1.128/25', '192.168.1.129/25', '2001:db8::/32', '2001:db8::1/32', '127.0.0.1/32']
    values = ['10.0.0.1', '10.255.0.1', '11.0.0.1', '0.0.0.0', '::1', '::ffff:10.0.0.1', '::ffff:a00:1',
              '192.168.1.200', '192.168.1.1', '2001:db8::5', '127.0.0.1', '10.1.2.3', 'x', 1, None]
    return rule_cases(rng, [CIDR(n) for n in nets], values, 'CIDR')


def string_checkers(rng):
    cases = []
    for checker in ('exact', 'fuzzy', 'regex'):
        hand = ['<sun>', 'sun', '<sun', 'sun>', '<su>n>', 'sunny', '<[a-z]+>', 'a<b>c<d>e', '<a><b>', '<<a>>', '',
                'x<[0-9]>', '<sun|moon>', 'a<b', 'b>a']
        values = ['sun', 'sunny', 'su', 'un', '<sun>', '[a-z]+', 'abcde', 'abc<d>e', 'ab', 'a', 'x1', 'moon', '',
                  'abd', 'b>a', 'a<b']
        for item in hand:
            policy = allow(1, subjects=[item], actions=['<.*>'], resources=['<.*>'])
            if checker != 'regex':
                policy = allow(1, subjects=[item], actions=['a'], resources=['r'])
            refused = 'several tags' if item.count('<') > 1 and item.count('>') > 1 and '<<' not in item else None
            cases.append(case([policy], checker, [q(subject=v) for v in values], f'{checker} checker: {item!r}',
                              refused))
        # An unbalanced tag before a fitting item: vakt gives up on the field.
        cases.append(case([allow(1, subjects=['<a', 'b'], actions=['a'], resources=['r'])], checker,
                          [q(subject='b'), q(subject='a')], f'{checker} checker: unbalanced first'))
        cases.append(case([allow(1, subjects=['b', '<a'], actions=['a'], resources=['r'])], checker,
                          [q(subject='b'), q(subject='a')], f'{checker} checker: unbalanced last'))
    return cases


def raising(rng):
    """Rules vakt raises on (compared across types, list rules on non-lists), alone and under Not."""
    rules = [Greater(1), Not(Greater(1)), Less('b'), Not(Less('b')), Not(AllIn('a')), Not(AnyIn('a')),
             Or(Greater(1), Any()), Or(Any(), Greater(1)), Not(In('a')), PairsEqual(), Not(PairsEqual()),
             GreaterOrEqual(True), LessOrEqual(0)]
    values = [2, 0, True, 'a', 'c', ['a'], ['a', 'b'], [['a', 'a']], [['a', 'b']], [1], ['aa'], ['ab'],
              [{'a': 1, 'b': 2}], {'x': 1}, None]
    return rule_cases(rng, rules, values, 'raising rules')


def inquiry_rules(rng):
    """Falsy inquiry parts (vakt makes them '') and the rules that read the inquiry."""
    from vakt.rules import ActionEqual, ResourceIn, SubjectEqual
    from vakt.rules.inquiry import ActionMatch, ResourceMatch, SubjectMatch
    cases = []
    parts = ['', 0, False, None, [], {}, 'x', 1, {'id': 'x'}, {'id': 0}]
    rules = [Eq(''), Eq(0), Falsy(), Truthy(), In('', 0), SubjectMatch(), SubjectMatch('id'), ActionMatch(),
             ResourceMatch('id'), SubjectEqual(), ActionEqual(), ResourceIn(), Eq('x')]
    for rule in rules:
        policies = [allow(1, subjects=[Any()], actions=[Any()], resources=[rule])]
        inquiries = [q(subject=s, action=a, resource=r) for s in ('', 'x') for a in ('x', 0) for r in parts]
        cases.append(case(policies, 'rules', inquiries, f'inquiry parts: {type(rule).__name__}'))
    for rule in (SubjectEqual(), ActionEqual(), ResourceIn()):
        policies = [allow(1, subjects=['<.*>'], actions=['<.*>'], resources=['<.*>'], context={'k': rule})]
        inquiries = [q(subject='x', action='x', resource='x', context={'k': v}) for v in ['x', ['x'], 'y', 'xx', 1]]
        cases.append(case(policies, 'regex', inquiries, f'inquiry rules in a string policy: {type(rule).__name__}'))
    return cases


# ---- random policy sets ------------------------------------------------------------------------------
WORDS = ['alice', 'bob', 'read', 'write', 'doc', 'doc1', 'ali', 'ce', '1', '']


def rand_rule(rng, depth=0):
    r = rng.random()
    word = rng.choice(WORDS)
    num = rng.randint(0, 3)
    if depth < 2 and r < 0.15:
        return rng.choice([And, Or])(*[rand_rule(rng, depth + 1) for _ in range(rng.randint(0, 2))])
    if depth < 2 and r < 0.22:
        return Not(rand_rule(rng, depth + 1))
    return rng.choice([
        lambda: Eq(rng.choice([word, num])), lambda: NotEq(word), lambda: Greater(num), lambda: Less(num),
        lambda: GreaterOrEqual(num), lambda: LessOrEqual(num), lambda: Truthy(), lambda: Falsy(), lambda: Any(),
        lambda: Neither(), lambda: In(*rng.sample(WORDS + [0, 1, 2], rng.randint(0, 3))),
        lambda: NotIn(*rng.sample(WORDS + [0, 1], rng.randint(0, 2))),
        lambda: AllIn(*rng.sample(WORDS + [1], rng.randint(0, 3))),
        lambda: AllNotIn(*rng.sample(WORDS + [1], rng.randint(0, 2))),
        lambda: AnyIn(*rng.sample(WORDS + [1], rng.randint(0, 2))),
        lambda: AnyNotIn(*rng.sample(WORDS, rng.randint(0, 2))),
        lambda: Equal(word, ci=rng.random() < 0.3), lambda: StartsWith(word), lambda: EndsWith(word),
        lambda: Contains(word, ci=rng.random() < 0.3), lambda: RegexMatch(rand_regex(rng)),
        lambda: CIDR(rng.choice(['10.0.0.0/8', '10.1.0.0/16', '0.0.0.0/0', '10.0.0.1/8', '::/0'])),
        lambda: PairsEqual(), lambda: rng.choice(INQUIRY_RULES)(),
    ])()


def _inquiry_rules():
    from vakt.rules import ActionEqual, ResourceIn, SubjectEqual
    from vakt.rules.inquiry import ActionMatch, ResourceMatch, SubjectMatch
    return [SubjectMatch, ActionMatch, ResourceMatch, lambda: SubjectMatch('name'), lambda: ResourceMatch('name'),
            SubjectEqual, ActionEqual, ResourceIn]


INQUIRY_RULES = _inquiry_rules()


def rand_value(rng):
    return rng.choice([
        lambda: rng.choice(WORDS), lambda: rng.randint(0, 3), lambda: rng.choice([True, False, None, [], {}]),
        lambda: rng.choice(['::ffff:10.1.2.3', '10.0.0.1', '2001:db8::1']),
        lambda: rng.sample(WORDS + [1], rng.randint(0, 3)), lambda: rng.choice(['10.1.2.3', '11.0.0.1']),
        lambda: rand_text(rng), lambda: [['a', 'a'], ['b', 'b']],
    ])()


def rand_rule_element(rng):
    if rng.random() < 0.3:
        return {'name': rand_rule(rng), 'age': rand_rule(rng)} if rng.random() < 0.5 else {'name': rand_rule(rng)}
    return rand_rule(rng)


def rand_field_value(rng):
    if rng.random() < 0.3:
        value = {'name': rand_value(rng)}
        if rng.random() < 0.6:
            value['age'] = rng.randint(0, 3)
        return value
    return rand_value(rng)


def random_rules(rng):
    cases = []
    for n in range(80):
        policies = []
        for i in range(rng.randint(1, 4)):
            fields = {f: [rand_rule_element(rng) for _ in range(rng.randint(0, 2))] or [Any()]
                      for f in ('subjects', 'actions', 'resources')}
            context = {k: rand_rule(rng) for k in rng.sample(['ip', 'k'], rng.randint(0, 2))}
            make = allow if rng.random() < 0.75 else deny
            policies.append(make(i, context=context, **fields))
        inquiries = [q(rand_field_value(rng), rand_field_value(rng), rand_field_value(rng),
                       {k: rand_value(rng) for k in rng.sample(['ip', 'k'], rng.randint(0, 2))})
                     for _ in range(20)]
        cases.append(case(policies, 'rules', inquiries, f'random rules #{n}'))
    return cases


def rand_string_element(rng):
    r = rng.random()
    if r < 0.35:
        return rng.choice(WORDS[:-1])
    if r < 0.7:
        return rng.choice(['', 'a', 'doc']) + '<' + rand_regex(rng).lstrip('^').rstrip('$') + '>'
    return rng.choice(['<ali>', '<read|write>', 'doc<[0-9]>', '<.*>', '<doc1>', 'a<>b', '<a', 'a>b', 'doc<', '<>'])


def random_strings(rng):
    cases = []
    for n in range(80):
        checker = rng.choice(['regex', 'exact', 'fuzzy'])
        policies = []
        for i in range(rng.randint(1, 4)):
            fields = {f: [rand_string_element(rng) for _ in range(rng.randint(1, 2))]
                      for f in ('subjects', 'actions', 'resources')}
            make = allow if rng.random() < 0.75 else deny
            policies.append(make(i, **fields))
        pool = WORDS + ['ab', 'a1', 'doc5', 'doc12', 'reading', 'ali', 'alic', 'abb', '<ali>', '<a', 'a>b', 'doc<', 'a<>b']
        inquiries = [q(rng.choice(pool), rng.choice(pool), rng.choice(pool + [rand_text(rng)])) for _ in range(20)]
        cases.append(case(policies, checker, inquiries, f'random strings #{n} ({checker})'))
    return cases


FAMILIES = {
    'regex-match': regex_match,
    'logic-empty': logic,
    'lists-empty': lists_empty,
    'lists-members': lists_members,
    'cidr': cidr,
    'string-checkers': string_checkers,
    'raising': raising,
    'inquiry': inquiry_rules,
    'random-rules': random_rules,
    'random-strings': random_strings,
}

if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    for name, build in FAMILIES.items():
        cases = build(random.Random(f'portcullis-vakt-{name}'))
        with open(os.path.join(OUT, f'{name}.json'), 'w') as out:
            json.dump({'family': name, 'vakt': '1.6.0', 'cases': cases}, out, separators=(',', ':'))
            out.write('\n')
        decisions = sum(len(c['inquiries']) * len(c['sets']) for c in cases)
        print(f'{name}: {sum(len(c["sets"]) for c in cases)} policy sets, {decisions} decisions', file=sys.stderr)

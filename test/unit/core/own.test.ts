// setOwn / plainCopy: keys from data never reach a prototype.
import { expect } from 'chai';
import { parse } from 'node:querystring';
import { plainCopy, setOwn } from '../../../src/own.js';

describe('core: own keys', () => {
  it('plainCopy turns a querystring dictionary into a plain object, __proto__ kept as data', () => {
    const parsed = parse('__proto__=x&constructor=y&plan=free&plan=pro') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).to.equal(null);
    const copy = plainCopy(parsed);
    expect(Object.getPrototypeOf(copy)).to.equal(Object.prototype);
    expect(Object.keys(copy)).to.deep.equal(['__proto__', 'constructor', 'plan']);
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')!.value).to.equal('x');
    expect(copy.plan).to.deep.equal(['free', 'pro']);
    expect(({} as Record<string, unknown>).x).to.equal(undefined);
  });

  it('setOwn writes an own __proto__ property and leaves the prototype alone', () => {
    const target: Record<string, unknown> = {};
    setOwn(target, '__proto__', { polluted: true });
    setOwn(target, 'a', 1);
    expect(Object.getPrototypeOf(target)).to.equal(Object.prototype);
    expect(Object.keys(target)).to.deep.equal(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});

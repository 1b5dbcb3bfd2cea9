// hmacSha256 must equal node:crypto's HMAC for every key and message length, including reuse of its buffers.
import { expect } from 'chai';
import { createHmac, randomBytes } from 'node:crypto';
import { hmacSha256 } from '../../src/hmac.js';

describe('hmacSha256', function () {
  it('equals createHmac for short, block-sized and long keys and messages of every size', function () {
    for (const keyLength of [0, 1, 32, 63, 64, 65, 200]) {
      const key = randomBytes(keyLength);
      const sign = hmacSha256(key);
      for (const messageLength of [0, 1, 55, 56, 64, 1000, 1024, 1025, 5000]) {
        const message = randomBytes(messageLength).toString('latin1');
        expect(sign(message).equals(createHmac('sha256', key).update(message, 'utf8').digest())).to.equal(true);
      }
    }
  });

  it('encodes messages as UTF-8, and a long message between short ones leaves no bytes behind', function () {
    const key = Buffer.from('a shared secret of some length');
    const sign = hmacSha256(key);
    const expected = (message: string) => createHmac('sha256', key).update(message).digest();
    for (const message of ['héllo wörld 中文 😀', 'x'.repeat(3000), 'short', '', 'é'.repeat(600), 'short']) {
      expect(sign(message)).to.deep.equal(expected(message));
    }
    // Results are fresh buffers: a later call does not change an earlier result.
    const first = sign('one');
    const copy = Buffer.from(first);
    sign('two');
    expect(first).to.deep.equal(copy);
  });
});

// Driver failures are classified by class hierarchy and documented labels: outages are 503, the rest are not.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import mongoose from 'mongoose';
import { ReplyError } from 'ioredis';
import { isDuplicateKey, isMongoUnavailable, mongoCall } from '../../../stores/mongodb/errors.js';
import { isRedisUnavailable } from '../../../stores/redis/errors.js';
import { StoreUnavailableError } from '../../../src/errors.js';

const { mongo } = mongoose;
// The pool errors are not exported from the driver's entry point; they are what a frozen server produces.
const require = createRequire(import.meta.url);
const cmapErrors = require('mongodb/lib/cmap/errors.js') as {
  PoolClearedOnNetworkError: new (pool: { address: string }) => Error;
  PoolClearedError: new (pool: { address: string }) => Error;
  PoolClosedError: new (pool: { address: string }) => Error;
  WaitQueueTimeoutError: new (message: string, address: string) => Error;
};

function labelled(label: string): Error {
  const error = new mongo.MongoServerError({ message: 'not primary', code: 10107 });
  error.addErrorLabel(label);
  return error;
}

describe('store error classification', function () {
  it('counts every subclass of the driver’s network errors as unavailable, pool-cleared ones included', function () {
    const pool = { address: '127.0.0.1:27017' };
    for (const error of [
      new cmapErrors.PoolClearedOnNetworkError(pool),
      new cmapErrors.PoolClearedError(pool),
      new mongo.MongoNetworkTimeoutError('timed out'),
      new mongo.MongoNetworkError('reset'),
      new mongo.MongoTopologyClosedError(),
      new mongo.MongoNotConnectedError('not connected'),
      // What operations meet while a forced reconnect replaces the topology.
      new cmapErrors.PoolClosedError(pool),
      new mongo.MongoClientClosedError(),
      new cmapErrors.WaitQueueTimeoutError('timed out waiting for a connection', pool.address),
      new mongo.MongoOperationTimeoutError('timed out'),
    ]) {
      expect(isMongoUnavailable(error), error.name).to.equal(true);
    }
  });

  it('counts server errors by their documented labels, not by their names', function () {
    expect(isMongoUnavailable(labelled('ResetPool'))).to.equal(true);
    expect(isMongoUnavailable(labelled('RetryableWriteError'))).to.equal(true);
    expect(isMongoUnavailable(new mongo.MongoServerError({ message: 'not primary', code: 10107 }))).to.equal(false);
  });

  it('counts the socket errors the driver lets through unwrapped (EPIPE while a server restarts)', function () {
    // What net.Socket#write throws after the server ended the connection; the driver passed it on as is.
    const ended = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    expect(isMongoUnavailable(ended)).to.equal(true);
    expect(isMongoUnavailable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).to.equal(true);
    expect(isMongoUnavailable(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).to.equal(false);
    expect(isMongoUnavailable({ code: 'EPIPE' }), 'a plain object is no socket error').to.equal(false);
  });

  it('leaves request errors and programming errors alone', function () {
    const duplicate = new mongo.MongoServerError({ message: 'E11000 duplicate key', code: 11000 });
    expect(isMongoUnavailable(duplicate)).to.equal(false);
    expect(isDuplicateKey(duplicate)).to.equal(true);
    expect(isMongoUnavailable(new TypeError('x is undefined'))).to.equal(false);
    const named = new Error('looks like an outage');
    named.name = 'MongoNetworkError';
    expect(isMongoUnavailable(named), 'a name alone proves nothing').to.equal(false);
    expect(isMongoUnavailable('MongoNetworkError')).to.equal(false);
    expect(isMongoUnavailable(new mongo.MongoInvalidArgumentError('bad option')), 'a misuse of the API').to.equal(
      false,
    );
    expect(isMongoUnavailable(new mongo.MongoRuntimeError('driver bug')), 'a runtime bug').to.equal(false);
  });

  it('turns an outage into StoreUnavailableError (503) and passes other errors through', async function () {
    const pool = { address: '127.0.0.1:27017' };
    const outage = await mongoCall(() => Promise.reject(new cmapErrors.PoolClearedOnNetworkError(pool))).catch(
      (error: unknown) => error,
    );
    expect(outage).to.be.instanceOf(StoreUnavailableError).and.have.property('status', 503);
    const other = new mongo.MongoServerError({ message: 'bad', code: 2 });
    expect(await mongoCall(() => Promise.reject(other)).catch((error: unknown) => error)).to.equal(other);
  });

  it('counts a Redis error reply as a bug, except those saying the server cannot serve now, and anything else (closed, timed out) as unavailable', function () {
    expect(isRedisUnavailable(new ReplyError('WRONGTYPE'))).to.equal(false);
    // Replies that say the server cannot serve now: a cluster that lost a master's slots, a migrating slot...
    expect(isRedisUnavailable(new ReplyError('CLUSTERDOWN The cluster is down'))).to.equal(true);
    expect(isRedisUnavailable(new ReplyError('TRYAGAIN Multiple keys request during rehashing of slot'))).to.equal(
      true,
    );
    expect(isRedisUnavailable(new ReplyError('LOADING Redis is loading the dataset in memory'))).to.equal(true);
    expect(isRedisUnavailable(new ReplyError('ERR CLUSTERDOWN-like text'))).to.equal(false);
    expect(isRedisUnavailable(new Error('Command timed out'))).to.equal(true);
    expect(isRedisUnavailable(undefined)).to.equal(false);
  });
});

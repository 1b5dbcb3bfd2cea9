// A start through Redis Sentinel that cannot reach a master fails within STORE_CONNECT_TIMEOUT, naming
// REDIS_SENTINELS and never a password: ioredis itself keeps asking the sentinels for ever.
import { expect } from 'chai';
import { loadConfig, type Env } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { createStores } from '../../stores/create-stores.js';
import { freePort, startRedisSentinel, type RedisSentinelHandle } from '../support/servers.js';

async function startFailure(env: Env): Promise<{ error: ConfigError; ms: number }> {
  const started = Date.now();
  try {
    const stores = await createStores(loadConfig({ STORE_CONNECT_TIMEOUT: '1500', ...env }));
    await stores.close();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return { error: error as ConfigError, ms: Date.now() - started };
  }
  throw new Error('the stores started');
}

describe('Redis Sentinel: a start that reaches no master', function () {
  this.timeout(60_000);
  let sentinel: RedisSentinelHandle;
  before(async function () {
    sentinel = await startRedisSentinel();
  });
  after(async function () {
    await sentinel?.stop();
  });

  it('fails within STORE_CONNECT_TIMEOUT when no sentinel listens, a name is unknown or a password wrong', async function () {
    const closed = `127.0.0.1:${await freePort()}`;
    const cases: [string, Env, string][] = [
      ['no sentinel', { REDIS_SENTINELS: closed, REDIS_SENTINEL_NAME: sentinel.name }, 'SENTINEL_NO_MASTER'],
      [
        'unknown master name',
        {
          REDIS_SENTINELS: sentinel.sentinels,
          REDIS_SENTINEL_NAME: 'no-such-master',
          REDIS_SENTINEL_PASSWORD: sentinel.password,
          REDIS_SENTINEL_MASTER_PASSWORD: sentinel.password,
        },
        'SENTINEL_NO_MASTER',
      ],
      [
        'wrong sentinel password',
        {
          REDIS_SENTINELS: sentinel.sentinels,
          REDIS_SENTINEL_NAME: sentinel.name,
          REDIS_SENTINEL_PASSWORD: 'wrong-sentinel-password',
          REDIS_SENTINEL_MASTER_PASSWORD: sentinel.password,
        },
        'WRONGPASS',
      ],
      [
        'wrong master password',
        {
          REDIS_SENTINELS: sentinel.sentinels,
          REDIS_SENTINEL_NAME: sentinel.name,
          REDIS_SENTINEL_PASSWORD: sentinel.password,
          REDIS_SENTINEL_MASTER_PASSWORD: 'wrong-master-password',
        },
        'WRONGPASS',
      ],
    ];
    for (const [what, env, reason] of cases) {
      const { error, ms } = await startFailure(env);
      expect(ms, what).to.be.lessThan(6_000);
      expect(error.message, what).to.match(/^REDIS_SENTINELS: cannot connect to /);
      expect(error.message, what).to.include(`(${reason})`);
      expect(error.message, what).to.not.match(/wrong-(sentinel|master)-password/);
      expect(error.message, what).to.not.include(sentinel.password);
    }
  });
});

describe('REDIS_SENTINELS given a URL', function () {
  it('names the entry by its place and never quotes it, as it may hold a password', function () {
    for (const entry of [
      'redis://:hunter2pw@127.0.0.1:26379',
      'user:hunter2pw@127.0.0.1:26379',
      'h:1/x?pw=hunter2pw',
    ]) {
      let message = '';
      try {
        loadConfig({ REDIS_SENTINELS: `127.0.0.1:26379,${entry}`, REDIS_SENTINEL_NAME: 'm' });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, entry).to.include('REDIS_SENTINELS: entry 2 (a URL? give host:port)');
      expect(message, entry).to.not.include('hunter2pw');
    }
  });
});

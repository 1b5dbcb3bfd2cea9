// PII never reaches a log line: pino with a masker, the Logger wrapper, and the masker built from configuration.
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { loadConfig } from '../../../src/config/index.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import { createMasker } from '../../../src/pii/engine.js';
import { fieldEncryptionFromConfig, maskerFromConfig } from '../../../src/pii/from-config.js';
import { maskingLogger, pinoMaskingOptions } from '../../../src/pii/logging.js';
import { pino } from 'pino';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { stream, lines };
}

const masker = createMasker({ keys: ['password', 'ssn'], recognizers: ['email', 'card'] });

describe('pii in logs', () => {
  it('createLogger({ masker }) masks objects, child bindings and messages inside pino', () => {
    const { stream, lines } = sink();
    const logger = createLogger({ destination: stream, masker });
    logger.info(
      { user: { password: 'hunter2', ssn: '123-45-6789', note: 'card 4111 1111 1111 1111' } },
      'login by ada@example.org',
    );
    logger.child!({ email: 'bob@example.org' }).warn({ ok: true }, 'child');
    const text = lines.join('');
    expect(text).to.not.include('hunter2').and.not.include('123-45-6789').and.not.include('4111 1111');
    expect(text).to.not.include('ada@example.org').and.not.include('bob@example.org');
    const first = JSON.parse(lines[0]!);
    expect(first.user).to.deep.equal({ password: 'XXXXXXXX', ssn: 'XXXXXXXXXXX', note: 'card XXXXXXXXXXXXXXXXXXX' });
    expect(first.msg).to.equal('login by XXXXXXXXXXXXXXX');
  });

  it("createLogger() takes a bare message too, pino's logger.info('text'), masked like any message", () => {
    const { stream, lines } = sink();
    const logger = createLogger({ destination: stream, masker });
    logger.info('started for ada@example.org');
    logger.child({ part: 'x' }).warn('child says bob@example.org');
    expect(JSON.parse(lines[0]!).msg).to.equal('started for XXXXXXXXXXXXXXX');
    expect(JSON.parse(lines[1]!)).to.include({ part: 'x', msg: 'child says XXXXXXXXXXXXXXX' });
    const plain = sink();
    createLogger({ destination: plain.stream }).info('plain text');
    expect(JSON.parse(plain.lines[0]!).msg).to.equal('plain text');
  });

  it('pinoMaskingOptions masks inside an application-built pino', () => {
    const { stream, lines } = sink();
    const logger = pino({ base: undefined, ...pinoMaskingOptions(masker) }, stream);
    logger.info({ password: 'hunter2' }, 'mail ada@example.org');
    const line = JSON.parse(lines[0]!);
    expect(line).to.include({ password: 'XXXXXXXX', msg: 'mail XXXXXXXXXXXXXXX' });
  });

  it('maskingLogger wraps any Logger', () => {
    const seen: unknown[] = [];
    const inner: Logger = {
      error: (o, m) => seen.push([o, m]),
      warn: (o, m) => seen.push([o, m]),
      info: (o, m) => seen.push([o, m]),
      debug: (o, m) => seen.push([o, m]),
    };
    const input = { password: 'pw' };
    maskingLogger(inner, masker).error(input, 'from ada@example.org');
    expect(seen).to.deep.equal([[{ password: 'XXXXXXXX' }, 'from XXXXXXXXXXXXXXX']]);
    expect(input.password).to.equal('pw');
  });

  it('builds the masker and field encryption from environment variables', () => {
    const config = loadConfig({
      PII_MASK_KEYS: 'secretAnswer',
      PII_MASK_PATHS: 'profile.dob',
      PII_RECOGNIZERS: 'email',
      PII_MASK_STRATEGY: 'pseudonym',
      PSEUDONYM_KEY: 'p'.repeat(32),
      ENCRYPTION_KEYS: `1:${Buffer.alloc(32, 1).toString('base64')},2:secret:a passphrase of some length`,
      ENCRYPTION_CURRENT_KEY_VERSION: '1',
      BLIND_INDEX_KEY: 'b'.repeat(32),
    });
    const fromConfig = maskerFromConfig(config);
    const out = fromConfig.mask({ SecretAnswer: 'blue', profile: { dob: '1990-01-01' }, note: 'x@example.org' });
    expect(out.SecretAnswer).to.match(/^[A-Za-z0-9_-]{16}$/);
    expect(out.profile.dob).to.match(/^[A-Za-z0-9_-]{16}$/);
    expect(out.note).to.match(/^[A-Za-z0-9_-]{16}$/);
    const encryption = fieldEncryptionFromConfig(config, [{ path: 'ssn', searchable: true }]);
    expect(encryption.ring.current).to.equal(1);
    expect(encryption.ring.versions).to.deep.equal([1, 2]);
    expect(encryption.decryptRecord(encryption.encryptRecord({ ssn: 'x' }))).to.deep.equal({ ssn: 'x' });
  });

  it('rejects bad PII variables at load time, naming them and never echoing secrets', () => {
    const attempt = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    };
    expect(attempt({ ENCRYPTION_KEYS: '1:dG9vLXNob3J0' }))
      .to.match(/ENCRYPTION_KEYS: version 1 is not a base64 32-byte key/)
      .and.not.include('dG9vLXNob3J0');
    expect(attempt({ ENCRYPTION_KEYS: '1:secret:tiny' }))
      .to.match(/ENCRYPTION_KEYS: version 1 needs a secret of at least 16/)
      .and.not.include('tiny');
    expect(attempt({ PII_RECOGNIZERS: 'email,phnoe' })).to.match(/PII_RECOGNIZERS: "phnoe" is not a recognizer/);
    expect(attempt({ BLIND_INDEX_KEY: 'short-key' }))
      .to.match(/BLIND_INDEX_KEY: has an invalid format/)
      .and.not.include('short-key');
    expect(() => fieldEncryptionFromConfig(loadConfig({}), ['ssn'])).to.throw(/ENCRYPTION_KEYS: is required/);
  });
});

// crudRouter `privacy` options: checked once at creation, and PRIVACY_DEFAULT reaching createPortcullis's routers.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { createPortcullis, type Portcullis } from '../../../app/create-portcullis.js';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { policy, rules } from '../../../src/abac/index.js';
import { loadConfig } from '../../../src/config/index.js';
import { ConfigError, ConfigErrors } from '../../../src/errors.js';
import { createFieldEncryption } from '../../../src/pii/field-encryption.js';
import { EncryptedRecordStore } from '../../../stores/encrypted-records.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import type { PrivacyOptions } from '../../../middleware/crud/privacy.js';
import { memberFields, noteFields } from './privacy-fixtures.js';

function build(privacy: PrivacyOptions, store = new MemoryRecordStore({ schema: noteFields })) {
  return () => crudRouter({ resource: 'notes', store, privacy });
}

function refused(fn: () => unknown, option: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).message).to.contain(option);
    return;
  }
  expect.fail(`${option}: accepted`);
}

describe('crudRouter privacy options', function () {
  const members = new MemoryRecordStore({ schema: memberFields });
  const membership = { resource: 'list', field: 'listId', store: members };

  it('accepts the documented shape', function () {
    build({ membership, default: 'public' })();
    build({})();
  });

  it('refuses what would make the rule wrong, naming the option', function () {
    refused(build({ default: 'friends' as never }), 'crudRouter.privacy.default');
    refused(build({ field: 'level' }), 'crudRouter.privacy.field');
    refused(build({ ownerField: 'score' }), 'crudRouter.privacy.ownerField');
    refused(build({ fields: 'x' } as never), 'crudRouter.privacy.fields');
    // `-` separates the parts of an implied role.
    refused(build({ membership: { ...membership, resource: 'my-list' } }), 'crudRouter.privacy.membership.resource');
    refused(build({ membership: { ...membership, field: 'team' } }), 'crudRouter.privacy.membership.field');
    refused(build({ membership: { ...membership, levelField: 'role' } }), 'crudRouter.privacy.membership.levelField');
    refused(build({ membership: { ...membership, limit: 0 } }), 'crudRouter.privacy.membership.limit');
    refused(build({ exempt: 'admin' as never }), 'crudRouter.privacy.exempt');
    const encryption = createFieldEncryption({
      keys: `1:${randomBytes(32).toString('base64')}`,
      blindIndexKey: randomBytes(32),
      fields: [{ path: 'owner', searchable: true }],
    });
    const encrypted = new EncryptedRecordStore({
      store: new MemoryRecordStore({ schema: noteFields, extraPaths: encryption.derivedFields }),
      encryption,
    });
    refused(build({}, encrypted as never), 'crudRouter.privacy.ownerField');
  });

  it('PRIVACY_DEFAULT is a privacy level', function () {
    expect(loadConfig({}).PRIVACY_DEFAULT).to.equal('secret');
    expect(() => loadConfig({ PRIVACY_DEFAULT: 'friends' })).to.throw(ConfigErrors, /PRIVACY_DEFAULT/);
  });

  describe('createPortcullis', function () {
    let portcullis: Portcullis;
    before(async () => {
      portcullis = await createPortcullis(loadConfig({ PRIVACY_DEFAULT: 'member', LOG_LEVEL: 'silent' }), {
        policies: [
          policy({
            uid: 'anyone',
            effect: 'allow',
            subjects: [rules.Any()],
            actions: [rules.Any()],
            resources: [rules.Any()],
          }),
        ],
      });
    });
    after(() => portcullis?.close());

    it('gives records created without a privacy PRIVACY_DEFAULT, unless the router says otherwise', async () => {
      const app = express();
      app.use((req, _res, next) => {
        contextOf(req).principal = { id: 'olga', kind: 'user', groups: [], attributes: {} };
        next();
      });
      app.use(
        '/notes',
        portcullis.crudRouter({
          resource: 'notes',
          store: new MemoryRecordStore({ schema: noteFields }),
          privacy: { membership },
        }),
      );
      app.use(
        '/public-notes',
        portcullis.crudRouter({
          resource: 'notes',
          store: new MemoryRecordStore({ schema: noteFields }),
          privacy: { default: 'public' },
        }),
      );
      const created = await request(app).post('/notes').send({ title: 'x' }).expect(201);
      expect(created.body).to.include({ privacy: 'member', owner: 'olga' });
      const open = await request(app).post('/public-notes').send({ title: 'x' }).expect(201);
      expect(open.body.privacy).to.equal('public');
    });
  });
});

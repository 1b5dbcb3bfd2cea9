// privacyRoles(): the implied roles for an authorize() mounted at app level, in front of a crudRouter with
// privacy; the memberships are read once per request, whoever asks first.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { authorize } from '../../../middleware/authorize.js';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { privacyRoles } from '../../../middleware/privacy-roles.js';
import { policy, rules } from '../../../src/abac/index.js';
import type { Principal } from '../../../src/auth/principal.js';
import { ConfigError } from '../../../src/errors.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { backends } from './app.js';
import { memberStore, noteFields } from './privacy-fixtures.js';

const user = (id: string): Principal => ({ id, kind: 'user', groups: [], attributes: {} });

for (const backend of backends) {
  describe(`privacyRoles() in front of a privacy crudRouter (${backend})`, function () {
    this.timeout(30_000);
    let members: Awaited<ReturnType<typeof memberStore>>;
    before(async () => {
      members = await memberStore(backend);
      await members.store.insert(members.store.newId(), { principalId: 'max', listId: 'L1', level: 'manager' });
      await members.store.insert(members.store.newId(), { principalId: 'mia', listId: 'L1', level: 'member' });
    });
    after(() => members.cleanup());

    it('an app-level authorize sees the roles, and the memberships are read once per request', async () => {
      let caller: Principal = user('max');
      let finds = 0;
      const find = members.store.find.bind(members.store);
      members.store.find = (query) => {
        finds++;
        return find(query);
      };
      const notes = new MemoryRecordStore({ schema: noteFields });
      const membership = { resource: 'list', store: members.store };
      const app = express();
      app.use(express.json());
      app.use((req, _res, next) => {
        contextOf(req).principal = caller;
        next();
      });
      app.use(privacyRoles({ membership }));
      app.use(
        '/notes',
        authorize({
          action: 'notes:any',
          resource: 'notes',
          scope: false,
          policies: [
            policy({
              uid: 'members-of-l1',
              effect: 'allow',
              subjects: [{ privacyRoles: rules.AnyIn('list-L1-member') }],
              actions: [rules.Any()],
              resources: [rules.Any()],
            }),
          ],
        }),
        crudRouter({ resource: 'notes', store: notes, privacy: { membership: { ...membership, field: 'listId' } } }),
      );
      app.use(errorHandler());
      try {
        await notes.insert(notes.newId(), { title: 'shared', privacy: 'member', owner: 'olga', listId: 'L1' });
        const listed = await request(app).get('/notes').expect(200);
        expect(listed.body.items.map((note: { title: string }) => note.title)).to.deep.equal(['shared']);
        expect(finds).to.equal(1);
        caller = user('mia');
        await request(app).get('/notes').expect(200);
        expect(finds).to.equal(2);
        caller = user('sam');
        const refused = await request(app).get('/notes').expect(403);
        expect(refused.body.code).to.equal('forbidden.policy');
        expect(finds).to.equal(3);
      } finally {
        members.store.find = find;
      }
    });
  });
}

describe('privacyRoles() options', () => {
  it('checks its options at creation, naming the option', () => {
    const store = new MemoryRecordStore({ schema: { principalId: 'string', listId: 'string', level: 'string' } });
    expect(() => privacyRoles({ membership: { resource: 'list-x', store } })).to.throw(
      ConfigError,
      /privacyRoles\.membership\.resource/,
    );
    expect(() => privacyRoles({ membership: { resource: 'list', store, field: 'listId' } as never })).to.throw(
      ConfigError,
      /field/,
    );
    expect(() => privacyRoles({} as never)).to.throw(ConfigError, /privacyRoles\.membership/);
  });
});

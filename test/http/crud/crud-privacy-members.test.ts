// What counts as a membership: active, live records at a known level, with a plain resource id; at most
// `limit` of them per principal; and who is exempt from the rule.
import { expect } from 'chai';
import express, { type Express } from 'express';
import request from 'supertest';
import { subjectOf } from '../../../middleware/authorize.js';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import type { PrivacyMembershipOptions } from '../../../middleware/crud/privacy.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { openApiDocument } from '../../../middleware/openapi/document.js';
import { Guard, policy, rules } from '../../../src/abac/index.js';
import type { Principal } from '../../../src/auth/principal.js';
import { DELETED_FIELD, type RecordStore } from '../../../src/contracts/records.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { backends } from './app.js';
import { memberStore, noteFields } from './privacy-fixtures.js';

const user = (id: string, groups: string[] = []): Principal => ({ id, kind: 'user', groups, attributes: {} });

interface Fixture {
  app: Express;
  notes: RecordStore;
  as(principal: Principal): void;
}

function fixture(
  membership: PrivacyMembershipOptions,
  notes: RecordStore = new MemoryRecordStore({ schema: noteFields }),
  guard?: Guard,
) {
  let caller: Principal = user('nobody');
  const app = express();
  app.use((req, _res, next) => {
    contextOf(req).principal = caller;
    next();
  });
  app.use(
    '/notes',
    crudRouter({
      resource: 'notes',
      store: notes,
      privacy: { membership, exempt: (principal) => principal.groups.includes('admin') },
      ...(guard ? { guard } : {}),
    }),
  );
  app.use(errorHandler());
  return {
    app,
    notes,
    as(principal: Principal) {
      caller = principal;
    },
  } satisfies Fixture;
}

/** One member-level note in each of `lists`, owned by olga. */
async function seed(notes: RecordStore, lists: string[]): Promise<void> {
  for (const listId of lists) {
    await notes.insert(notes.newId(), { title: listId, privacy: 'member', owner: 'olga', listId });
  }
}

async function titles(app: Express): Promise<string[]> {
  const response = await request(app).get('/notes?count=true&sort=title').expect(200);
  expect(response.body.count).to.equal(response.body.items.length);
  return response.body.items.map((item: { title: string }) => item.title);
}

for (const backend of backends) {
  describe(`crudRouter privacy memberships (${backend})`, function () {
    this.timeout(30_000);
    let members: { store: RecordStore; cleanup(): Promise<void> };
    beforeEach(async () => {
      members = await memberStore(backend);
    });
    afterEach(() => members.cleanup());

    it('counts live membership records only (a trashed one gives no role)', async () => {
      const store = members.store;
      const inserted = async (listId: string, extra: Record<string, unknown> = {}) => {
        const id = store.newId();
        await store.insert(id, { principalId: 'mia', listId, level: 'member', ...extra });
        return id;
      };
      await inserted('A');
      const trashed = await inserted('B');
      const current = await store.get(trashed);
      await store.replace(trashed, current!._version, {
        principalId: 'mia',
        listId: 'B',
        level: 'member',
        [DELETED_FIELD]: new Date(),
      });
      const plain = fixture({ resource: 'list', field: 'listId', store });
      await seed(plain.notes, ['A', 'B']);
      plain.as(user('mia'));
      expect(await titles(plain.app)).to.deep.equal(['A']);
    });

    it('refuses more memberships than the limit, rather than a shorter list', async () => {
      for (const listId of ['A', 'B', 'C']) {
        await members.store.insert(members.store.newId(), { principalId: 'mia', listId, level: 'member' });
      }
      const limited = fixture({ resource: 'list', field: 'listId', store: members.store, limit: 2 });
      await seed(limited.notes, ['A']);
      limited.as(user('mia'));
      const refused = await request(limited.app).get('/notes').expect(403);
      expect(refused.body.code).to.equal('forbidden.membership_limit');
      limited.as(user('olga'));
      expect(await titles(limited.app)).to.deep.equal(['A']);
    });

    it('an exempt caller reads every record and may create one for someone else', async () => {
      const open = fixture({ resource: 'list', field: 'listId', store: members.store });
      await seed(open.notes, ['A', 'B']);
      open.as(user('root', ['admin']));
      expect(await titles(open.app)).to.deep.equal(['A', 'B']);
      const created = await request(open.app)
        .post('/notes')
        .send({ title: 'for olga', owner: 'olga', listId: 'Z' })
        .expect(201);
      expect(created.body).to.include({ owner: 'olga', privacy: 'secret' });
      open.as(user('olga'));
      await request(open.app).get(`/notes/${created.body.id}`).expect(200);
    });
  });
}

describe('crudRouter privacy memberships: odd stored values, guards, OpenAPI (memory)', function () {
  it('a record-level guard sees the implied roles as the subject’s privacyRoles', async () => {
    const store = new MemoryRecordStore({ schema: { principalId: 'string', listId: 'string', level: 'string' } });
    await store.insert(store.newId(), { principalId: 'mia', listId: 'A', level: 'member' });
    const guard = new Guard({
      policies: [
        policy({
          uid: 'members-of-a-list-notes',
          effect: 'allow',
          subjects: [{ privacyRoles: rules.AnyIn('list-A-member') }],
          actions: [rules.Eq('notes:list')],
          resources: [rules.Any()],
        }),
      ],
    });
    const guarded = fixture({ resource: 'list', field: 'listId', store }, undefined, guard);
    await seed(guarded.notes, ['A', 'B']);
    await guarded.notes.insert(guarded.notes.newId(), { title: 'public', privacy: 'public', owner: 'olga' });
    guarded.as(user('mia'));
    expect(await titles(guarded.app)).to.deep.equal(['A', 'public']);
    // The owner holds no role of list A: the guard allows nothing, whatever the privacy rule would.
    guarded.as(user('olga'));
    expect(await titles(guarded.app)).to.deep.equal([]);
  });

  it('an attribute named privacyRoles never poses as implied roles in the subject', function () {
    const principal: Principal = { ...user('mia'), attributes: { privacyRoles: ['list-A-manager'], team: 'x' } };
    expect(subjectOf(principal)).to.not.have.property('privacyRoles');
    expect(subjectOf(principal)).to.include({ team: 'x' });
  });

  it('the OpenAPI description lists the privacy problems of each route', function () {
    const router = crudRouter({
      resource: 'notes',
      store: new MemoryRecordStore({ schema: noteFields }),
      privacy: {
        membership: {
          resource: 'list',
          field: 'listId',
          store: new MemoryRecordStore({ schema: { principalId: 'string', listId: 'string', level: 'string' } }),
        },
      },
    });
    const document = openApiDocument({ info: { title: 'notes', version: '1' }, mounts: { '/notes': router } });
    const codes = (operation: unknown, status: string) =>
      ((operation as { responses: Record<string, { 'x-problem-codes'?: string[] }> }).responses[status]?.[
        'x-problem-codes'
      ] ?? []) as string[];
    expect(codes(document.paths['/notes']!.post, '403')).to.include.members([
      'forbidden.privacy_owner',
      'forbidden.privacy_membership',
      'forbidden.membership_limit',
    ]);
    expect(codes(document.paths['/notes']!.get, '403')).to.include('forbidden.membership_limit');
    expect(codes(document.paths['/notes']!.get, '403')).to.not.include('forbidden.privacy_owner');
  });

  it('ignores levels it does not know and resource ids that are not plain ids', async () => {
    const store = new MemoryRecordStore({
      schema: { principalId: 'string', listId: 'string', level: 'string', status: 'string' },
    });
    // The memory store keeps what insert is given: these never passed a schema check.
    for (const [listId, level, status] of [
      ['A', 'secret', 'active'],
      ['B', 'owner', 'active'],
      [{ $ne: null }, 'manager', 'active'],
      [['C'], 'manager', 'active'],
      ['D', 'member', 'pending'],
      ['E', 'invitee', 'active'],
    ] as const) {
      await store.insert(store.newId(), { principalId: 'mia', listId, level, status });
    }
    const odd = fixture({ resource: 'list', field: 'listId', store, statusField: 'status' });
    for (const listId of ['A', 'B', 'C', 'D', 'E']) {
      for (const privacy of ['invitee', 'member', 'manager', 'secret']) {
        await odd.notes.insert(odd.notes.newId(), { title: `${listId} ${privacy}`, privacy, owner: 'olga', listId });
      }
    }
    odd.as(user('mia'));
    expect(await titles(odd.app)).to.deep.equal(['E invitee']);
  });
});

// crudRouter with `privacy` (apicrud's RBAC-with-privacy): a record at each privacy level, read by its owner,
// a manager, a member and an invitee of its list, and a stranger, through list, count, get, unique values and
// search; writes that would widen anyone's access are refused; the memberships cost one query per request.
import { expect } from 'chai';
import request from 'supertest';
import { authorize } from '../../../middleware/authorize.js';
import { contextOf } from '../../../middleware/context.js';
import { policy, rules } from '../../../src/abac/index.js';
import type { Principal } from '../../../src/auth/principal.js';
import type { RecordStore } from '../../../src/contracts/records.js';
import { backends, buildApp, type TestApp } from './app.js';
import { memberStore, noteFields } from './privacy-fixtures.js';

/** Counts the membership store's queries. */
function countFinds(store: RecordStore): { count: number } {
  const find = store.find.bind(store);
  const counter = { count: 0 };
  store.find = (query) => {
    counter.count++;
    return find(query);
  };
  return counter;
}

const user = (id: string, attributes: Record<string, unknown> = {}): Principal => ({
  id,
  kind: 'user',
  groups: [],
  attributes,
});
const LEVELS = ['public', 'invitee', 'member', 'manager', 'secret'] as const;
// Who reads a record of list L1 owned by olga, by its privacy.
const READERS: Record<string, string[]> = {
  olga: ['public', 'invitee', 'member', 'manager', 'secret'],
  max: ['public', 'invitee', 'member', 'manager'],
  mia: ['public', 'invitee', 'member'],
  ian: ['public', 'invitee'],
  sam: ['public'],
};

for (const backend of backends) {
  describe(`crudRouter privacy levels (${backend})`, function () {
    this.timeout(30_000);
    let test: TestApp;
    let members: { store: RecordStore; cleanup(): Promise<void> };
    let finds: { count: number };
    let caller: Principal | undefined;
    const ids: Record<string, string> = {};

    before(async () => {
      members = await memberStore(backend);
      for (const [principalId, listId, level] of [
        ['olga', 'L1', 'member'],
        ['max', 'L1', 'manager'],
        ['mia', 'L1', 'member'],
        ['ian', 'L1', 'invitee'],
        // The stranger is in another list, and a manager there: nothing of L1 follows.
        ['sam', 'L2', 'manager'],
        ['mia', 'L2', 'invitee'],
        // max also manages L3 and is a plain member of L2.
        ['max', 'L3', 'manager'],
        ['max', 'L2', 'member'],
      ] as const) {
        await members.store.insert(members.store.newId(), { principalId, listId, level });
      }
      finds = countFinds(members.store);
      test = await buildApp(
        backend,
        {
          fields: noteFields,
          allowReplace: true,
          privacy: { membership: { resource: 'list', field: 'listId', store: members.store } },
          authorize: (action) =>
            authorize({
              action,
              resource: 'notes',
              scope: false,
              allowAnonymous: true,
              policies: [
                policy({
                  uid: 'anyone-but-delete',
                  effect: 'allow',
                  subjects: [rules.Any()],
                  actions: [rules.NotEq('people:delete')],
                  resources: [rules.Any()],
                }),
                // The implied roles are subject attributes: only managers of L1 may delete at all.
                policy({
                  uid: 'managers-of-l1-delete',
                  effect: 'allow',
                  subjects: [{ privacyRoles: rules.AnyIn('list-L1-manager') }],
                  actions: [rules.Eq('people:delete')],
                  resources: [rules.Any()],
                }),
              ],
            }),
        },
        (app) =>
          app.use((req, _res, next) => {
            if (caller) contextOf(req).principal = caller;
            next();
          }),
      );
      caller = user('olga');
      for (const privacy of LEVELS) {
        const response = await request(test.app)
          .post('/people')
          .send({ title: `${privacy} note`, privacy, listId: 'L1', score: LEVELS.indexOf(privacy) })
          .expect(201);
        expect(response.body.owner).to.equal('olga');
        ids[privacy] = response.body.id as string;
      }
    });
    after(async () => {
      await test?.cleanup();
      await members?.cleanup();
    });

    for (const [who, levels] of Object.entries(READERS)) {
      it(`${who} lists, counts, pages, gets and lists unique values of exactly ${levels.join(', ')}`, async () => {
        caller = user(who);
        const expected = levels.map((level) => `${level} note`).sort();
        const listed = await request(test.app).get('/people?count=true&sort=title').expect(200);
        expect(listed.body.items.map((item: { title: string }) => item.title)).to.deep.equal(expected);
        expect(listed.body.count).to.equal(levels.length);
        // Cursor pages of one: the same records, in order, and the same count on every page.
        const paged: string[] = [];
        let url = '/people?limit=1&count=true&sort=title';
        for (;;) {
          const page = await request(test.app).get(url).expect(200);
          expect(page.body.count).to.equal(levels.length);
          paged.push(...page.body.items.map((item: { title: string }) => item.title));
          if (!page.body.nextCursor) break;
          url = `/people?limit=1&count=true&sort=title&cursor=${encodeURIComponent(page.body.nextCursor as string)}`;
        }
        expect(paged).to.deep.equal(expected);
        for (const level of LEVELS) {
          await request(test.app)
            .get(`/people/${ids[level]}`)
            .expect(levels.includes(level) ? 200 : 404);
        }
        const unique = await request(test.app).get('/people/unique/privacy').expect(200);
        expect([...unique.body.values].sort()).to.deep.equal([...levels].sort());
        const searched = await request(test.app)
          .post('/people/search/privacy')
          .send([...LEVELS])
          .expect(200);
        expect(searched.body.items).to.have.length(levels.length);
        // Asking for secret records by name finds none the caller may not read, not even their number.
        const secret = await request(test.app).get('/people?privacy=secret&count=true').expect(200);
        expect(secret.body.count).to.equal(levels.includes('secret') ? 1 : 0);
        expect(secret.body.items).to.have.length(levels.includes('secret') ? 1 : 0);
        // The caller's own filters only narrow: naming the owner or excluding public records widens nothing.
        const owned = await request(test.app).get('/people?owner=olga&count=true').expect(200);
        expect(owned.body.count).to.equal(levels.length);
        const unshared = await request(test.app).get('/people?privacy__ne=public&count=true').expect(200);
        expect(unshared.body.count).to.equal(levels.length - 1);
        const byPath = await request(test.app).get('/people/privacy/secret').expect(200);
        expect(byPath.body.items).to.have.length(levels.includes('secret') ? 1 : 0);
      });
    }

    it('an anonymous caller reads public records only', async () => {
      caller = { id: 'anonymous', kind: 'anonymous', groups: [], attributes: {} };
      const listed = await request(test.app).get('/people?count=true').expect(200);
      expect(listed.body.count).to.equal(1);
      expect(listed.body.items[0].privacy).to.equal('public');
      await request(test.app).get(`/people/${ids.secret}`).expect(404);
      const created = await request(test.app).post('/people').send({ title: 'nobody’s' }).expect(401);
      expect(created.body.code).to.equal('authentication.required');
    });

    it('reads the memberships in one query per request, whatever the route', async () => {
      caller = user('mia');
      for (const path of ['/people?count=true', `/people/${ids.member}`, '/people/unique/title']) {
        const before = finds.count;
        await request(test.app).get(path).expect(200);
        expect(finds.count - before, path).to.equal(1);
      }
      const before = finds.count;
      await request(test.app).post('/people/search/title').send(['member note', 'public note']).expect(200);
      expect(finds.count - before).to.equal(1);
    });

    it('creates records owned by the caller, at the default privacy', async () => {
      caller = user('mia');
      const created = await request(test.app).post('/people').send({ title: 'mine' }).expect(201);
      expect(created.body).to.include({ owner: 'mia', privacy: 'secret' });
      caller = user('max');
      await request(test.app).get(`/people/${created.body.id}`).expect(404);
    });

    it('refuses a record owned by someone else, or attached to a list the caller is not in', async () => {
      caller = user('mia');
      const before = await test.router.store.count({ kind: 'and', nodes: [] });
      const forged = await request(test.app).post('/people').send({ title: 'x', owner: 'olga' }).expect(403);
      expect(forged.body.code).to.equal('forbidden.privacy_owner');
      const injected = await request(test.app)
        .post('/people')
        .send({ title: 'x', owner: { $ne: null } })
        .expect(400);
      expect(injected.body.errors[0].code).to.equal('validation.forbidden_key');
      const object = await request(test.app)
        .post('/people')
        .send({ title: 'x', owner: { id: 'olga' } })
        .expect(403);
      expect(object.body.code).to.equal('forbidden.privacy_owner');
      const outsider = await request(test.app).post('/people').send({ title: 'x', listId: 'L3' }).expect(403);
      expect(outsider.body.code).to.equal('forbidden.privacy_membership');
      const operator = await request(test.app)
        .post('/people')
        .send({ title: 'x', listId: ['L1'], privacy: 'member' })
        .expect(400);
      expect(operator.body.errors.map((e: { code: string }) => e.code)).to.include('validation.privacy_membership');
      const level = await request(test.app).post('/people').send({ title: 'x', privacy: 'friends' }).expect(400);
      expect(level.body.errors[0]).to.include({ field: 'privacy', code: 'validation.privacy' });
      expect(await test.router.store.count({ kind: 'and', nodes: [] })).to.equal(before);
    });

    it('a batch is checked like single creates: owned by the caller, in its lists, or nothing is stored', async () => {
      caller = user('mia');
      const before = await test.router.store.count({ kind: 'and', nodes: [] });
      const forged = await request(test.app)
        .post('/people/batch')
        .send({ records: [{ title: 'a' }, { title: 'b', owner: 'olga', privacy: 'public' }] })
        .expect(403);
      expect(forged.body.code).to.equal('forbidden.privacy_owner');
      const outsider = await request(test.app)
        .post('/people/batch')
        .send({ records: [{ title: 'a', listId: 'L3' }] })
        .expect(403);
      expect(outsider.body.code).to.equal('forbidden.privacy_membership');
      const invalid = await request(test.app)
        .post('/people/batch')
        .send({ records: [{ title: 'a' }, { title: 'b', privacy: 'friends' }] })
        .expect(400);
      expect(invalid.body.errors[0]).to.include({ index: 1, field: 'privacy', code: 'validation.privacy' });
      // Every record's problem at once, with its index: refusals make the batch a 403 that lists bad input too.
      const mixed = await request(test.app)
        .post('/people/batch')
        .send({
          records: [
            { title: 'a' },
            { title: 'b', owner: 'olga' },
            { title: 'c', privacy: 'friends' },
            { title: 'd', listId: 'L3' },
            { title: 'e', owner: 'max', listId: 'L3' },
          ],
        })
        .expect(403);
      expect(mixed.body.code).to.equal('forbidden.privacy_owner');
      expect(
        mixed.body.errors.map((e: { index: number; field: string; code: string }) => [e.index, e.field, e.code]),
      ).to.deep.equal([
        [1, 'owner', 'forbidden.privacy_owner'],
        [3, 'listId', 'forbidden.privacy_membership'],
        [4, 'owner', 'forbidden.privacy_owner'],
        [4, 'listId', 'forbidden.privacy_membership'],
        [2, 'privacy', 'validation.privacy'],
      ]);
      expect(await test.router.store.count({ kind: 'and', nodes: [] })).to.equal(before);
      const created = await request(test.app)
        .post('/people/batch')
        .send({ records: [{ title: 'batch a' }, { title: 'batch b', privacy: 'member', listId: 'L1' }] })
        .expect(201);
      expect(created.body.records.map((r: { owner: string; privacy: string }) => [r.owner, r.privacy])).to.deep.equal([
        ['mia', 'secret'],
        ['mia', 'member'],
      ]);
      for (const record of created.body.records as { id: string }[]) {
        await test.router.store.remove(record.id);
      }
    });

    it('members and invitees only read: a PATCH or DELETE of a record they read is a 404', async () => {
      for (const who of ['mia', 'ian']) {
        caller = user(who);
        await request(test.app).get(`/people/${ids.invitee}`).expect(200);
        await request(test.app).patch(`/people/${ids.invitee}`).send({ privacy: 'public' }).expect(404);
      }
      caller = user('sam');
      await request(test.app).patch(`/people/${ids.secret}`).send({ privacy: 'public' }).expect(404);
      caller = user('olga');
      const stored = await request(test.app).get(`/people/${ids.invitee}`).expect(200);
      expect(stored.body.privacy).to.equal('invitee');
    });

    it('a manager changes privacy, but neither takes ownership nor locks itself out', async () => {
      caller = user('max');
      const widened = await request(test.app).patch(`/people/${ids.member}`).send({ privacy: 'invitee' }).expect(200);
      expect(widened.body).to.include({ privacy: 'invitee', owner: 'olga' });
      const takeover = await request(test.app).patch(`/people/${ids.member}`).send({ owner: 'max' }).expect(403);
      expect(takeover.body.code).to.equal('forbidden.privacy_owner');
      const hidden = await request(test.app).patch(`/people/${ids.member}`).send({ privacy: 'secret' }).expect(403);
      expect(hidden.body.code).to.equal('forbidden.record_scope');
      await request(test.app).get(`/people/${ids.secret}`).expect(404);
      await request(test.app).patch(`/people/${ids.secret}`).send({ privacy: 'public' }).expect(404);
      caller = user('olga');
      await request(test.app).patch(`/people/${ids.member}`).send({ privacy: 'member' }).expect(200);
    });

    it('a manager may publish a non-secret record and move it between lists it manages, not beyond', async () => {
      caller = user('max');
      // apicrud's manager grant is read/write: the privacy field included, up to public.
      const published = await request(test.app).patch(`/people/${ids.member}`).send({ privacy: 'public' }).expect(200);
      expect(published.body).to.include({ privacy: 'public', owner: 'olga' });
      caller = user('sam');
      await request(test.app).get(`/people/${ids.member}`).expect(200);
      caller = user('max');
      await request(test.app).patch(`/people/${ids.member}`).send({ privacy: 'member' }).expect(200);
      const moved = await request(test.app).patch(`/people/${ids.member}`).send({ listId: 'L3' }).expect(200);
      expect(moved.body).to.include({ listId: 'L3', owner: 'olga' });
      // A list it is only a member of: the record would leave what it manages.
      const member = await request(test.app).patch(`/people/${ids.member}`).send({ listId: 'L2' }).expect(403);
      expect(member.body.code).to.equal('forbidden.record_scope');
      const outsider = await request(test.app).patch(`/people/${ids.member}`).send({ listId: 'L9' }).expect(403);
      expect(outsider.body.code).to.equal('forbidden.privacy_membership');
      await request(test.app).patch(`/people/${ids.member}`).send({ listId: 'L1' }).expect(200);
    });

    it('the owner moves a record only to a list it is in, and a PUT keeps the owner', async () => {
      caller = user('olga');
      const moved = await request(test.app).patch(`/people/${ids.manager}`).send({ listId: 'L2' }).expect(403);
      expect(moved.body.code).to.equal('forbidden.privacy_membership');
      const replaced = await request(test.app)
        .put(`/people/${ids.manager}`)
        .send({ title: 'manager note', privacy: 'manager', listId: 'L1', score: 3 })
        .expect(200);
      expect(replaced.body.owner).to.equal('olga');
      const dropped = await request(test.app).patch(`/people/${ids.manager}`).send({ owner: null }).expect(403);
      expect(dropped.body.code).to.equal('forbidden.privacy_owner');
    });

    it('policies see the implied roles as the subject’s privacyRoles', async () => {
      caller = user('olga');
      const created = await request(test.app)
        .post('/people')
        .send({ title: 'to delete', privacy: 'member', listId: 'L1' })
        .expect(201);
      // The owner is no manager of L1: the policy refuses before the record is looked at.
      const owner = await request(test.app).delete(`/people/${created.body.id}`).expect(403);
      expect(owner.body.code).to.equal('forbidden.policy');
      caller = user('mia');
      await request(test.app).delete(`/people/${created.body.id}`).expect(403);
      caller = user('max');
      await request(test.app).delete(`/people/${created.body.id}`).expect(204);
    });
  });
}

// Property: for random records and memberships, what a caller lists, counts, pages through, gets and sees as
// unique values under `privacy` is exactly a brute-force filter of the same records with apicrud's rule,
// written here record by record (roles from memberships, then owner / public / `<list>-<id>-<privacy>`).
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import type { Principal } from '../../../src/auth/principal.js';
import type { RecordStore } from '../../../src/contracts/records.js';
import { matchAll } from '../../../src/filter/index.js';
import { mongooseSchemaFor } from '../../../stores/mongodb/records-schema.js';
import { MongoRecordStore } from '../../../stores/mongodb/records.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { sharedMongo, uniqueName } from '../../support/connections.js';
import { prng } from '../../support/prng.js';
import { backends } from './app.js';
import { memberStore, noteFields } from './privacy-fixtures.js';

const PRINCIPALS = ['p0', 'p1', 'p2', 'p3', 'p4'];
const LISTS = ['A', 'B', 'C'];
const STORED_LEVELS = ['public', 'invitee', 'member', 'manager', 'secret', 'bogus'];
// apicrud's privacy_levels after `public`, in order: a membership at one level holds the roles up to it.
const ROLE_LEVELS = ['invitee', 'member', 'manager'];

type Note = { id: string; title: string; privacy?: string; owner?: string; listId?: string; score: number };
type MemberRow = { principalId: string; listId: string; level: string };

function rolesOf(principal: string, memberships: MemberRow[]): Set<string> {
  const roles = new Set<string>();
  for (const row of memberships) {
    if (row.principalId !== principal || !ROLE_LEVELS.includes(row.level)) continue;
    for (const level of ROLE_LEVELS) {
      roles.add(`list-${row.listId}-${level}`);
      if (level === row.level) break;
    }
  }
  return roles;
}

function readable(note: Note, principal: string | undefined, roles: Set<string>, fallback: string): boolean {
  const privacy = note.privacy ?? fallback;
  if (principal !== undefined && note.owner === principal) return true;
  if (privacy === 'public') return true;
  return note.listId !== undefined && roles.has(`list-${note.listId}-${privacy}`);
}

async function clear(store: RecordStore): Promise<void> {
  const all = await store.find({ where: matchAll, sort: [{ field: 'id', direction: 1 }], limit: 10_000 });
  for (const record of all) await store.remove(record.id);
}

for (const backend of backends) {
  describe(`crudRouter privacy: answers equal a brute-force filter (${backend})`, function () {
    this.timeout(180_000);
    const runs = backend === 'memory' ? 30 : 6;
    let notes: RecordStore;
    let members: { store: RecordStore; cleanup(): Promise<void> };
    let dropNotes = async () => {};
    let caller: Principal | undefined;
    const app = express();

    before(async () => {
      members = await memberStore(backend);
      if (backend === 'mongodb') {
        const connection = await sharedMongo();
        const name = uniqueName('notes');
        const model = connection.model(name, mongooseSchemaFor(noteFields), name);
        notes = new MongoRecordStore({ model });
        dropNotes = async () => {
          await connection.dropCollection(name).catch(() => false);
          connection.deleteModel(name);
        };
      } else {
        notes = new MemoryRecordStore({ schema: noteFields });
      }
      app.use((req, _res, next) => {
        if (caller) contextOf(req).principal = caller;
        next();
      });
      // One store, two rules: records without a privacy read as each router's default.
      for (const fallback of ['secret', 'member'] as const) {
        app.use(
          `/${fallback}`,
          crudRouter({
            resource: 'notes',
            store: notes,
            cursorSecret: 'privacy-property'.repeat(2),
            privacy: { default: fallback, membership: { resource: 'list', field: 'listId', store: members.store } },
          }),
        );
      }
      app.use(errorHandler());
    });
    after(async () => {
      await dropNotes();
      await members?.cleanup();
    });

    it(`holds for ${runs} random collections`, async () => {
      for (let run = 0; run < runs; run++) {
        const seed = 0x5eed + run;
        const random = prng(seed);
        const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
        await clear(notes);
        await clear(members.store);
        const stored: Note[] = [];
        const count = Math.floor(random() * 26);
        for (let i = 0; i < count; i++) {
          const note: Omit<Note, 'id'> = { title: `t${i}`, score: Math.floor(random() * 4) };
          if (random() < 0.9) note.owner = pick(PRINCIPALS);
          if (random() < 0.9) note.privacy = pick(STORED_LEVELS);
          if (random() < 0.8) note.listId = pick(LISTS);
          const id = notes.newId();
          await notes.insert(id, note);
          stored.push({ id, ...note });
        }
        const memberships: MemberRow[] = [];
        for (const principalId of PRINCIPALS) {
          for (const listId of LISTS) {
            // Some none, some twice at different levels (the higher counts), some at a level that gives nothing.
            const times = random() < 0.4 ? 0 : random() < 0.8 ? 1 : 2;
            for (let t = 0; t < times; t++) {
              const level = random() < 0.9 ? pick(ROLE_LEVELS) : pick(['secret', 'owner', 'public']);
              memberships.push({ principalId, listId, level });
              await members.store.insert(members.store.newId(), { principalId, listId, level });
            }
          }
        }
        for (const fallback of ['secret', 'member']) {
          for (const who of [...PRINCIPALS, undefined]) {
            const where = `seed ${seed}, default ${fallback}, caller ${who ?? 'anonymous'}`;
            caller = who
              ? { id: who, kind: 'user', groups: [], attributes: {} }
              : { id: 'anonymous', kind: 'anonymous', groups: [], attributes: {} };
            const roles = who ? rolesOf(who, memberships) : new Set<string>();
            const expected = stored.filter((note) => readable(note, who, roles, fallback));
            const ids = expected.map((note) => note.id).sort();
            // Every page, through cursors, with the count on each.
            const seen: string[] = [];
            let url = `/${fallback}?limit=7&count=true&sort=score`;
            for (;;) {
              const page = await request(app).get(url).expect(200);
              expect(page.body.count, where).to.equal(ids.length);
              seen.push(...page.body.items.map((item: { id: string }) => item.id));
              if (!page.body.nextCursor) break;
              url = `/${fallback}?limit=7&count=true&sort=score&cursor=${encodeURIComponent(page.body.nextCursor as string)}`;
            }
            expect(seen.sort(), where).to.deep.equal(ids);
            for (const field of ['listId', 'score', 'privacy'] as const) {
              const unique = await request(app).get(`/${fallback}/unique/${field}`).expect(200);
              const values = new Set(expected.map((note) => note[field]).filter((value) => value !== undefined));
              expect([...unique.body.values].sort(), `${where}, unique ${field}`).to.deep.equal([...values].sort());
            }
            const secret = await request(app).get(`/${fallback}?privacy=secret&count=true`).expect(200);
            expect(secret.body.count, `${where}, secret`).to.equal(
              expected.filter((note) => note.privacy === 'secret').length,
            );
            if (stored.length > 0) {
              const probe = pick(stored);
              await request(app)
                .get(`/${fallback}/${probe.id}`)
                .expect(ids.includes(probe.id) ? 200 : 404);
            }
          }
        }
      }
    });
  });
}

// ATTACHMENT_MAX_BYTES, ATTACHMENT_TYPES and BATCH_MAX_RECORDS reach createPortcullis's CRUD routers; bad
// attachment options and values are refused at start-up, naming the option or variable.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createPortcullis, type Portcullis } from '../../../app/create-portcullis.js';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { policy, rules } from '../../../src/abac/index.js';
import { loadConfig } from '../../../src/config/index.js';
import { ConfigError, ConfigErrors } from '../../../src/errors.js';
import { MemoryAttachmentStore } from '../../../stores/memory/attachments.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';

const schema = { name: 'string' } as const;

describe('attachment and batch configuration', function () {
  it('refuses bad attachment options at creation, naming the option', function () {
    const store = new MemoryRecordStore({ schema });
    const files = new MemoryAttachmentStore();
    const cases: [unknown, string][] = [
      [{}, 'crudRouter.attachments.store'],
      [{ store: {} }, 'crudRouter.attachments.store'],
      [{ store: files, maxBytes: 0 }, 'crudRouter.attachments.maxBytes'],
      [{ store: files, types: [] }, 'crudRouter.attachments.types'],
      [{ store: files, types: ['pdf'] }, 'crudRouter.attachments.types[0]'],
      [{ store: files, maxByte: 1 }, 'maxByte'],
    ];
    for (const [attachments, option] of cases) {
      expect(() => crudRouter({ resource: 'people', store, attachments } as never), option).to.throw(
        ConfigError,
        option,
      );
    }
  });

  it('refuses ATTACHMENT_TYPES that are not media types', function () {
    expect(loadConfig({}).ATTACHMENT_TYPES).to.include('application/pdf');
    expect(() => loadConfig({ ATTACHMENT_TYPES: 'application/pdf,pdf' })).to.throw(ConfigErrors, /ATTACHMENT_TYPES/);
    expect(() => loadConfig({ ATTACHMENT_MAX_BYTES: '0' })).to.throw(ConfigErrors, /ATTACHMENT_MAX_BYTES/);
  });

  describe('createPortcullis', function () {
    let portcullis: Portcullis;
    before(async () => {
      const config = loadConfig({
        ATTACHMENT_MAX_BYTES: '10',
        ATTACHMENT_TYPES: 'text/*',
        BATCH_MAX_RECORDS: '2',
        LOG_LEVEL: 'silent',
      });
      portcullis = await createPortcullis(config, {
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

    it('applies the configured limits', async () => {
      const app = express();
      app.use(express.json(), (req, _res, next) => {
        contextOf(req).principal = { id: 'olga', kind: 'user', groups: [], attributes: {} };
        next();
      });
      app.use(
        '/people',
        portcullis.crudRouter({
          resource: 'people',
          store: new MemoryRecordStore({ schema }),
          attachments: { store: new MemoryAttachmentStore() },
        }),
      );
      app.use(errorHandler());
      const tooMany = await request(app)
        .post('/people/batch')
        .send({ records: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] })
        .expect(400);
      expect(tooMany.body.code).to.equal('validation.batch_size');
      const id = (await request(app).post('/people').send({ name: 'a' }).expect(201)).body.id;
      const upload = (type: string, body: string) =>
        request(app)
          .post(`/people/${id}/attachments`)
          .set('Content-Type', type)
          .set('Content-Disposition', 'attachment; filename="a.txt"')
          .send(body);
      await upload('text/plain', '0123456789').expect(201);
      await upload('text/plain', '0123456789A').expect(413);
      await upload('application/pdf', '%PDF').expect(415);
    });
  });
});

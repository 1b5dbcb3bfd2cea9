// A complete Portcullis app: a `books` resource on a mongoose model, with API keys and JWT logins, ABAC,
// filtering, masking and audit, all configured from the environment. Run it with
//   MONGODB_URI=mongodb://127.0.0.1/library ADMIN_API_KEY=admin.change-me-0123456789 npx tsx examples/minimal/main.ts
import type { AddressInfo } from 'node:net';
import { Schema } from 'mongoose';
import { ConfigError, ConfigErrors, createPortcullis, loadConfig, parsePolicies } from 'portcullis';
import { MongoRecordStore } from 'portcullis/mongodb';

const policies = parsePolicies(`
- uid: admins-do-anything
  effect: allow
  subjects: [{ role: { type: Eq, value: admin } }]
  actions: [{ type: Any }]
  resources: [{ type: Any }]
- uid: readers-browse-books
  effect: allow
  subjects: [{ role: { type: Eq, value: reader } }]
  actions: [{ type: In, values: ['books:list', 'books:read'] }]
  resources: [{ name: { type: Eq, value: books } }]
`);

try {
  const config = loadConfig();
  if (!config.MONGODB_URI) throw new ConfigError('MONGODB_URI', 'is required: the books live in MongoDB');
  // The borrower is PII: masked in responses, audit events and logs unless the guard allows read:pii on it.
  const portcullis = await createPortcullis(config, { policies, piiFields: ['borrower'] });
  const Book = portcullis.stores.connections.mongodb!.model(
    'Book',
    new Schema({ title: { type: String, required: true }, author: String, year: Number, borrower: String }),
  );

  const app = portcullis.app();
  app.use('/books', portcullis.crudRouter({ resource: 'books', store: new MongoRecordStore({ model: Book }) }));
  app.use('/audit', portcullis.auditRouter());
  const server = await portcullis.listen(app);
  console.log(`books listening on http://${config.HOST}:${(server.address() as AddressInfo).port}/books`);
} catch (error) {
  if (!(error instanceof ConfigError || error instanceof ConfigErrors)) throw error;
  const problems = error instanceof ConfigErrors ? error.problems : [error];
  for (const problem of problems) console.error(`config error: ${problem.message}`);
  process.exit(1);
}

// The README walkthrough against the demo: each step is rendered into README.md and replayed by
// test/e2e/walkthrough.test.ts against `npm start` with real servers, so the two cannot drift apart.
import { expect } from 'chai';
import type { WalkthroughStep } from './walkthrough-types.js';

interface Account {
  id: string;
  country: string;
  email: string;
  phone: string;
  nationalId?: string;
  status: string;
  notes: string;
}
interface Page {
  items: Account[];
  nextCursor?: string | null;
}

const asAna = { Authorization: 'Bearer {{ANA_TOKEN}}' };
const asSam = { Authorization: 'Bearer {{SAM_TOKEN}}' };
const asAdmin = { 'X-API-Key': '{{ADMIN_API_KEY}}' };

export const walkthrough: WalkthroughStep[] = [
  {
    title: 'Is it up?',
    explain:
      'Health reports the process and every store with its backend: `memory` by default, `redis` or `mongodb` when `REDIS_URL` / `MONGODB_URI` are set (then `servers` lists each server).',
    request: { method: 'GET', path: '/health' },
    status: 200,
    shows:
      '{ "status": "up", "servers": {…}, "stores": { "sessions": { "status": "up", "backend": "…", … }, … }, "process": { "pid": …, … } }',
    check(body) {
      expect(body).to.have.property('status', 'up');
    },
  },
  {
    title: 'No credentials, no data',
    explain: 'Every route but `/health`, `/metrics` and `/auth/login` needs a credential.',
    request: { method: 'GET', path: '/accounts' },
    status: 401,
    shows:
      '{ "type": "https://portcullis.dev/problems/…", "title": "Unauthorized", "status": 401, "detail": "Authentication required.", … }',
    check(body, headers) {
      expect(headers.get('www-authenticate')).to.be.a('string');
      expect(body).to.have.property('status', 401);
    },
  },
  {
    title: 'Log in as the analyst',
    explain: 'A login issues a JWT whose `jti` names a server-side session; `ANA_TOKEN` is the `token` of the answer.',
    request: { method: 'POST', path: '/auth/login', body: { username: 'ana', password: 'analyst-demo-password' } },
    status: 201,
    shows: '{ "token": "eyJhbGciOi…", "tokenType": "Bearer", "sessionId": "…", "expiresAt": "…" }',
    capture: (body) => ({ ANA_TOKEN: (body as { token: string }).token }),
  },
  {
    title: 'Who am I?',
    explain: 'The principal and its effective permissions, merged from the user and its groups.',
    request: { method: 'GET', path: '/auth/me', headers: asAna },
    status: 200,
    shows:
      '{ "principal": { "id": "ana", "groups": ["analysts"], … }, "permissions": { "filters": [{ "country": ["DE", "FR"] }], … } }',
    check(body) {
      const me = body as { principal: { id: string }; permissions: { filters: unknown[] } };
      expect(me.principal.id).to.equal('ana');
      expect(me.permissions.filters).to.deep.equal([{ country: ['DE', 'FR'] }]);
    },
  },
  {
    title: 'A filtered list',
    explain:
      'Magic operators, typed by the schema: active accounts aged 30 or more, richest first. The analyst only ever sees Germany and France, her national ids are removed, and contact details are masked.',
    request: { method: 'GET', path: '/accounts?status=active&age__gte=30&sort=-balance&limit=3', headers: asAna },
    status: 200,
    shows:
      '{ "items": [{ "name": "Elif Dubois", "email": "eXXX@example.com", "phone": "XXXXXXXXXXXX19", "status": "active", "age": 31, "balance": 18687.89, "country": "FR", "id": "acc_0033", … }, …], "nextCursor": "…" }',
    check(body) {
      const page = body as Page;
      expect(page.items).to.have.length(3);
      for (const item of page.items) {
        expect(['DE', 'FR']).to.include(item.country);
        expect(item.status).to.equal('active');
        expect(item).to.not.have.property('nationalId');
        expect(item.email).to.match(/^[a-z]XXX@example\.com$/);
      }
    },
  },
  {
    title: 'Bad filters are 400s that name the problem',
    explain: 'Unknown operators, uncastable values and operator injection are refused, never passed on.',
    request: { method: 'GET', path: '/accounts?age__gt=thirty&status%5B%24ne%5D=closed', headers: asAna },
    status: 400,
    shows:
      '{ "title": "Bad Request", "status": 400, "code": "filter.invalid_value", "errors": [{ "field": "age__gt", "code": "filter.invalid_value", "message": "The value of \\"age__gt\\" must be a number." }, { "field": "status[$ne]", "code": "filter.forbidden_key", … }], … }',
  },
  {
    title: 'Log in as the support agent',
    explain: '`SAM_TOKEN` is the `token` of the answer.',
    request: { method: 'POST', path: '/auth/login', body: { username: 'sam', password: 'support-demo-password' } },
    status: 201,
    capture: (body) => ({ SAM_TOKEN: (body as { token: string }).token }),
  },
  {
    title: 'The same record, another view',
    explain:
      'Support may read contact details (an ABAC `read:pii` policy), but the national id stays masked; the ETag is the record version for optimistic concurrency.',
    request: { method: 'GET', path: '/accounts/acc_0001', headers: asSam },
    status: 200,
    shows:
      '{ "id": "acc_0001", "email": "gustav.haddad0@example.com", "phone": "+49 30 7288439", "nationalId": "XXXXXXX5689", "notes": "Called from XXXXXXXXXXXXXX; …", … }',
    check(body, headers) {
      const account = body as Account;
      expect(account.email).to.not.match(/^X/);
      expect(account.nationalId).to.match(/^X+\d{4}$/);
      expect(headers.get('etag')).to.be.a('string');
    },
    capture: (body) => ({ ACCOUNT_NOTES: (body as Account).notes }),
  },
  {
    title: 'The administrator sees everything',
    explain: 'The administrator authenticates with the `ADMIN_API_KEY` it was started with.',
    request: { method: 'GET', path: '/accounts/acc_0001', headers: asAdmin },
    status: 200,
    shows:
      '{ "id": "acc_0001", "nationalId": "702-71-5689", "notes": "Called from +49 30 7288439; asked to send statements to gustav@mail.example.org.", … }',
  },
  {
    title: 'Search an encrypted field',
    explain: 'The national id is stored encrypted (AES-256-GCM); equality search goes through its keyed blind index.',
    request: { method: 'GET', path: '/accounts?nationalId=702-71-5689', headers: asAdmin },
    status: 200,
    shows: '{ "items": [{ "id": "acc_0001", "nationalId": "702-71-5689", … }], "nextCursor": null }',
  },
  {
    title: 'A refused update',
    explain: 'Support may change only status, phone and notes: a balance change is refused, nothing is written.',
    request: { method: 'PATCH', path: '/accounts/acc_0001', headers: asSam, body: { balance: 0 } },
    status: 403,
    shows:
      '{ "title": "Forbidden", "status": 403, "detail": "You may not update \\"balance\\".", "code": "forbidden.update_field", … }',
  },
  {
    title: 'The analyst may not update at all',
    explain: 'No ABAC policy allows `accounts:update` for analysts.',
    request: { method: 'PATCH', path: '/accounts/acc_0001', headers: asAna, body: { status: 'closed' } },
    status: 403,
  },
  {
    title: 'An allowed update',
    explain: 'Support suspends the account; the audit trail records the before and after of the changed fields.',
    request: {
      method: 'PATCH',
      path: '/accounts/acc_0001',
      headers: asSam,
      body: { status: 'suspended', notes: 'Suspended after a call from +49 30 5550123.' },
    },
    status: 200,
    check(body) {
      expect((body as Account).status).to.equal('suspended');
    },
  },
  {
    title: 'The audit trail',
    explain:
      'Every request that reached a route is one tamper-evident event; PII in events is masked before it is stored.',
    request: { method: 'GET', path: '/audit/events?action=UPDATE&resource=accounts', headers: asAdmin },
    status: 200,
    eventual: true,
    shows:
      '{ "items": [{ "action": "UPDATE", "resource": "accounts", "resourceId": "acc_0001", "user": { "id": "sam", … }, "status": 200, "changes": { "before": { "status": "closed", … }, "after": { "status": "suspended", "notes": "Suspended after a call from XXXXXXXXXXXXXX." } }, "hash": "…", … }, …], "nextCursor": null }',
    check(body) {
      const items = (body as { items: { action: string }[] }).items;
      expect(items.length).to.be.greaterThan(0);
      expect(items.every((event) => event.action === 'UPDATE')).to.equal(true);
    },
  },
  {
    title: "A record's history",
    explain:
      'The states of the record after each change, newest first, rebuilt from the audit trail (events reach the store within `AUDIT_FLUSH_INTERVAL`).',
    request: { method: 'GET', path: '/accounts/acc_0001/history', headers: asSam },
    status: 200,
    eventual: true,
    shows:
      '{ "items": [{ "eventId": "…", "time": "…", "action": "UPDATE", "user": { "id": "sam", … }, "state": { "status": "suspended", "notes": "Suspended after a call from XXXXXXXXXXXXXX." } }] }',
    check(body) {
      const items = (body as { items: unknown[] }).items;
      expect(items.length).to.be.greaterThan(0);
    },
  },
  {
    title: 'Log out',
    explain: 'Logout revokes the session at once: the same token is refused afterwards.',
    request: { method: 'POST', path: '/auth/logout', headers: asAna },
    status: 204,
  },
  {
    title: 'The old token is dead',
    explain: 'A revoked session is 401 even though the JWT itself has not expired.',
    request: { method: 'GET', path: '/auth/me', headers: asAna },
    status: 401,
  },
];

// A CIDR rule over a real dual-stack listener, where an IPv4 client's req.ip is ::ffff:a.b.c.d.
import { expect } from 'chai';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { authorize } from '../../../middleware/authorize.js';
import { contextOf } from '../../../middleware/context.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { allow, deny } from '../../../src/abac/policy.js';
import { Guard, PolicySet, rules } from 'portcullis';

const { Any, CIDR, Eq } = rules;

describe('CIDR rules on a dual-stack listener', function () {
  let server: Server;
  let port: number;
  const seenIps: string[] = [];

  before(async function () {
    const guard = new Guard({
      policies: new PolicySet([
        allow({ uid: 'everyone', subjects: [Any()], actions: [Any()], resources: [Any()] }),
        deny({
          uid: 'no-loopback-deletes',
          subjects: [Any()],
          actions: [Eq('delete')],
          resources: [Any()],
          context: { ip: CIDR('127.0.0.0/8') },
        }),
        deny({
          uid: 'no-puts-from-this-host',
          subjects: [Any()],
          actions: [Eq('put')],
          resources: [Any()],
          context: { ip: Eq('127.0.0.1') },
        }),
      ]),
    });
    const app = express();
    app.set('trust proxy', false);
    app.use((req, _res, next) => {
      seenIps.push(String(req.ip));
      contextOf(req).principal = { id: 'alice', kind: 'user', groups: [], attributes: {} };
      next();
    });
    app.all('/things/:id', authorize({ guard }), (req, res) => {
      res.json({ ip: contextOf(req).decision?.inquiry.context.ip });
    });
    app.use(errorHandler());
    // '::' is Express's and node's default listener where IPv6 exists: IPv4 clients arrive IPv4-mapped.
    server = createServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '::', resolve);
    });
    port = (server.address() as AddressInfo).port;
  });

  after(function (done) {
    server.close(() => done());
  });

  it('denies a delete from 127.0.0.1 that arrives as ::ffff:127.0.0.1', async function () {
    const response = await fetch(`http://127.0.0.1:${port}/things/1`, { method: 'DELETE' });
    expect(seenIps.at(-1)).to.equal('::ffff:127.0.0.1');
    expect(response.status).to.equal(403);
    expect(response.headers.get('content-type')).to.match(/application\/problem\+json/);
    expect(await response.json()).to.include({ code: 'forbidden.policy', detail: 'A policy denies this request.' });
  });

  it('still allows what the deny does not cover from the same client', async function () {
    const response = await fetch(`http://127.0.0.1:${port}/things/1`);
    expect(seenIps.at(-1)).to.equal('::ffff:127.0.0.1');
    expect(response.status).to.equal(200);
    // The inquiry's context carries one form per client, so every rule (not only CIDR) sees 127.0.0.1.
    expect(await response.json()).to.deep.equal({ ip: '127.0.0.1' });
    expect((await fetch(`http://127.0.0.1:${port}/things/1`, { method: 'PUT' })).status).to.equal(403);
  });
});

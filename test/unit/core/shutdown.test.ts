// gracefulShutdown(): keep-alive clients cannot hold the process, and close() runs even when draining times out.
import { expect } from 'chai';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gracefulShutdown } from '../../../middleware/shutdown.js';
import { ConfigError } from '../../../src/errors.js';

interface Answer {
  status: number;
  connection: string | undefined;
}

function get(port: number, agent: Agent, path = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('gracefulShutdown()', function () {
  it('closes idle keep-alive connections at once instead of waiting for the budget', async function () {
    const { server, port } = await listen((_req, res) => res.end('ok'));
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    await Promise.all([get(port, agent), get(port, agent), get(port, agent)]);
    let closedAt = 0;
    const shutdown = gracefulShutdown(server, { timeoutMs: 10_000, close: async () => void (closedAt = Date.now()) });
    const started = Date.now();
    const result = await shutdown();
    expect(result).to.deep.equal({ drained: true, closed: true });
    expect(closedAt - started).to.be.below(1_000);
    agent.destroy();
  });

  it('lets a request in flight finish, ends its connection, then runs close() after it', async function () {
    const order: string[] = [];
    const started = Date.now();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { server, port } = await listen((_req, res) => {
      void held.then(() => {
        order.push('answered');
        res.end('ok');
      });
    });
    const agent = new Agent({ keepAlive: true });
    const answer = get(port, agent);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const shutdown = gracefulShutdown(server, { timeoutMs: 5_000, close: async () => void order.push('closed') });
    const done = shutdown();
    setTimeout(release, 100);
    expect((await answer).status).to.equal(200);
    expect(await done).to.deep.equal({ drained: true, closed: true });
    expect(order).to.deep.equal(['answered', 'closed']);
    expect(Date.now() - started).to.be.below(1_000);
    agent.destroy();
  });

  it('closes an idle keep-alive connection while a slow request on another one finishes', async function () {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { server, port } = await listen((req, res) => {
      if (req.url === '/slow') void held.then(() => res.end('slow'));
      else res.end('ok');
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await get(port, agent);
    const slow = get(port, new Agent({ keepAlive: true }), '/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const done = gracefulShutdown(server, { timeoutMs: 5_000, close: async () => undefined })();
    setTimeout(release, 100);
    expect(await slow).to.have.property('status', 200);
    expect(await done).to.deep.equal({ drained: true, closed: true });
    agent.destroy();
  });

  it('cuts a connection still busy at the drain deadline and still runs close() within the budget', async function () {
    const { server, port } = await listen(() => undefined); // never answers
    const agent = new Agent({ keepAlive: true });
    const hanging = get(port, agent).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    let closeCalled = false;
    const started = Date.now();
    const result = await gracefulShutdown(server, {
      timeoutMs: 600,
      closeReserveMs: 300,
      close: async () => void (closeCalled = true),
    })();
    expect(result).to.deep.equal({ drained: false, closed: true });
    expect(closeCalled).to.equal(true);
    expect(Date.now() - started).to.be.within(250, 600);
    expect(await hanging).to.be.instanceOf(Error);
    agent.destroy();
  });

  it('reports closed: false when close() outlives the budget or throws, and runs once however often called', async function () {
    const { server } = await listen((_req, res) => res.end());
    let calls = 0;
    const shutdown = gracefulShutdown(server, {
      timeoutMs: 200,
      close: () => {
        calls += 1;
        return new Promise(() => undefined);
      },
    });
    const [first, second] = await Promise.all([shutdown(), shutdown()]);
    expect(first).to.deep.equal({ drained: true, closed: false });
    expect(second).to.equal(first);
    expect(calls).to.equal(1);

    const { server: other } = await listen((_req, res) => res.end());
    const failing = gracefulShutdown(other, { timeoutMs: 200, close: () => Promise.reject(new Error('store down')) });
    expect(await failing()).to.deep.equal({ drained: true, closed: false });
  });

  it('refuses impossible budgets at creation, naming the option', function () {
    const server = createServer();
    const close = async () => undefined;
    expect(() => gracefulShutdown(server, { timeoutMs: 0, close }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/timeoutMs/);
    expect(() => gracefulShutdown(server, { timeoutMs: 100, closeReserveMs: 100, close }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/closeReserveMs/);
  });
});

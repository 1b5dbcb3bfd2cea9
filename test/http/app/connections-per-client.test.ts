// createPortcullis().listen() holds at most MAX_CONNECTIONS_PER_CLIENT connections from one client address, so
// one client with never-ending headers cannot take all of MAX_CONNECTIONS; TRUSTED_PROXIES are exempt.
import { expect } from 'chai';
import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { ConfigError, ConfigErrors } from '../../../src/errors.js';
import { createHttpServer } from '../../../middleware/http-server.js';
import { createLogger, createPortcullis, loadConfig, type Portcullis } from 'portcullis';

// The attack: headers whose final blank line never comes, held until HEADERS_TIMEOUT (10 s by default).
const UNFINISHED = 'GET /health HTTP/1.1\r\nHost: x\r\n';

interface Held {
  socket: Socket;
  /** Resolves with the time from connect to close, and what the server wrote, once the server closes it. */
  closed: Promise<{ afterMs: number; answer: string }>;
}

async function hold(port: number, host = '127.0.0.1'): Promise<Held> {
  const socket = connect(port, host);
  const started = Date.now();
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
  socket.on('error', () => {});
  const closed = new Promise<{ afterMs: number; answer: string }>((resolve) =>
    socket.on('close', () => resolve({ afterMs: Date.now() - started, answer })),
  );
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(UNFINISHED);
  return { socket, closed };
}

function requestOnce(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `held` is still open `ms` from now. */
async function stillOpen(held: Held, ms: number): Promise<boolean> {
  return Promise.race([held.closed.then(() => false), settle(ms).then(() => true)]);
}

async function start(env: Record<string, string>, logLines: string[]) {
  const config = loadConfig({ LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0', MAX_CONNECTIONS: '10', ...env });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  const portcullis = await createPortcullis(config, { logger: createLogger({ level: 'warn', destination }) });
  const server = await portcullis.listen(portcullis.app());
  return { portcullis, server, port: (server.address() as AddressInfo).port };
}

describe('createPortcullis().listen(): connections per client address', function () {
  this.timeout(10_000);
  let running: { portcullis: Portcullis; server: Server; port: number } | undefined;
  const sockets: Socket[] = [];

  afterEach(async function () {
    for (const socket of sockets.splice(0)) socket.destroy();
    if (!running) return;
    await new Promise((resolve) => running!.server.close(resolve));
    await running.portcullis.close();
    running = undefined;
  });

  it('closes a 4th connection from one address at once with MAX_CONNECTIONS_PER_CLIENT=3, logs it once, and frees a slot when one closes', async function () {
    const logLines: string[] = [];
    running = await start({ MAX_CONNECTIONS_PER_CLIENT: '3' }, logLines);
    const { port } = running;
    const held = [await hold(port), await hold(port), await hold(port)];
    sockets.push(...held.map((h) => h.socket));
    await settle(100);

    const fourth = await hold(port);
    sockets.push(fourth.socket);
    const { afterMs, answer } = await fourth.closed;
    expect(answer).to.equal('');
    expect(afterMs).to.be.below(500);
    const fifth = await hold(port);
    sockets.push(fifth.socket);
    expect((await fifth.closed).afterMs).to.be.below(500);
    // The three first ones are untouched.
    for (const h of held) expect(await stillOpen(h, 0)).to.equal(true);

    const warnings = logLines.filter((line) => line.includes('server.max_connections_per_client'));
    expect(warnings).to.have.length(1);
    expect(JSON.parse(warnings[0]!)).to.include({ maxConnectionsPerClient: 3, dropped: 1 });

    held[0]!.socket.destroy();
    await settle(100);
    expect(await requestOnce(port)).to.match(/^HTTP\/1\.1 200 /);
    // That request's connection ended too: the freed slot takes one held connection again, and no more.
    const again = await hold(port);
    sockets.push(again.socket);
    expect(await stillOpen(again, 200)).to.equal(true);
    const over = await hold(port);
    sockets.push(over.socket);
    expect((await over.closed).afterMs).to.be.below(500);
  });

  it('does not limit an address listed in TRUSTED_PROXIES', async function () {
    const logLines: string[] = [];
    running = await start({ MAX_CONNECTIONS_PER_CLIENT: '3', TRUSTED_PROXIES: '10.0.0.0/8,127.0.0.1' }, logLines);
    const { port } = running;
    const held = [];
    for (let i = 0; i < 6; i++) held.push(await hold(port));
    sockets.push(...held.map((h) => h.socket));
    for (const h of held) expect(await stillOpen(h, 100)).to.equal(true);
    expect(await requestOnce(port)).to.match(/^HTTP\/1\.1 200 /);
    expect(logLines.join('')).not.to.include('server.max_connections_per_client');
  });

  it('counts an IPv4 client on a dual-stack socket (::ffff:127.0.0.1) as 127.0.0.1', async function () {
    const server = createHttpServer((_req, res) => res.end('ok'), {
      requestTimeoutMs: 5000,
      headersTimeoutMs: 5000,
      maxConnections: 10,
      maxConnectionsPerClient: 2,
      idleTimeoutMs: 5000,
      trustedProxies: ['127.0.0.2'],
    });
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(0, '::', () => resolve(true));
    });
    if (!listening) this.skip();
    const seen: (string | undefined)[] = [];
    server.on('connection', (socket: Socket) => seen.push(socket.remoteAddress));
    try {
      const port = (server.address() as AddressInfo).port;
      const held = [await hold(port), await hold(port)];
      sockets.push(...held.map((h) => h.socket));
      await settle(100);
      // Only meaningful where node reports an IPv4 client of a `::` socket in the mapped form.
      if (seen[0] !== '::ffff:127.0.0.1') this.skip();
      const third = await hold(port);
      sockets.push(third.socket);
      expect((await third.closed).afterMs).to.be.below(500);
    } finally {
      for (const socket of sockets.splice(0)) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses MAX_CONNECTIONS_PER_CLIENT above MAX_CONNECTIONS at start-up, naming the variable; unset is 100 or MAX_CONNECTIONS', function () {
    expect(() => loadConfig({ MAX_CONNECTIONS: '50', MAX_CONNECTIONS_PER_CLIENT: '51' })).to.throw(
      ConfigErrors,
      /MAX_CONNECTIONS_PER_CLIENT: must not be more than MAX_CONNECTIONS \(51 > 50\)/,
    );
    expect(() => loadConfig({ MAX_CONNECTIONS_PER_CLIENT: '0' })).to.throw(ConfigErrors, /MAX_CONNECTIONS_PER_CLIENT/);
    const limits = { requestTimeoutMs: 1000, headersTimeoutMs: 1000, maxConnections: 5, idleTimeoutMs: 1000 };
    expect(() => createHttpServer(() => {}, { ...limits, maxConnectionsPerClient: 6 }))
      .to.throw(ConfigError, /maxConnectionsPerClient/)
      .with.property('option', 'maxConnectionsPerClient');
    expect(() => createHttpServer(() => {}, { ...limits, trustedProxies: ['10.0.0.0/33'] })).to.throw(
      ConfigError,
      /trustedProxies\[0\]/,
    );
    // MAX_CONNECTIONS=5 with the per-client default (100) is no error: the default follows MAX_CONNECTIONS down.
    expect(() => createHttpServer(() => {}, limits)).not.to.throw();
  });
});

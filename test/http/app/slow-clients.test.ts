// createPortcullis().listen() cuts clients that send slowly (REQUEST_TIMEOUT, HEADERS_TIMEOUT) and holds at
// most MAX_CONNECTIONS connections, over real sockets.
import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { ConfigErrors } from '../../../src/errors.js';
import { createLogger, createPortcullis, loadConfig, type Portcullis } from 'portcullis';

interface Outcome {
  /** Everything the server wrote before the connection closed. */
  answer: string;
  closedAfterMs: number;
}

/** Sends `head`, then one byte of `drip` every `everyMs` until the server closes the connection. */
function trickle(port: number, head: string, drip: string, everyMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    socket.write(head);
    const timer = setInterval(() => {
      if (socket.writable) socket.write(drip[sent++ % drip.length]!);
    }, everyMs);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
  });
}

/** One request on its own connection (`Connection: close`), answered whole. */
function requestOnce(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

describe('createPortcullis().listen(): slow clients and connection cap', function () {
  this.timeout(10_000);
  const logLines: string[] = [];
  let portcullis: Portcullis;
  let server: Server;
  let port: number;

  before(async function () {
    const config = loadConfig({
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: '0',
      REQUEST_TIMEOUT: '1s',
      HEADERS_TIMEOUT: '1s',
      MAX_CONNECTIONS: '2',
    });
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    portcullis = await createPortcullis(config, { logger: createLogger({ level: 'warn', destination }) });
    server = await portcullis.listen(portcullis.app());
    port = (server.address() as AddressInfo).port;
  });

  after(async function () {
    await new Promise((resolve) => server.close(resolve));
    await portcullis.close();
  });

  it('answers a body trickled a byte at a time with 408 and closes the connection within the bound', async function () {
    // Node's default would hold this connection for 300 s, checked every 30 s.
    const head =
      'POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    const { answer, closedAfterMs } = await trickle(port, head, '{"username":"x"', 200);
    expect(answer).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(answer).to.include('Content-Type: application/problem+json');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).to.include({
      status: 408,
      code: 'request_timeout',
    });
    // REQUEST_TIMEOUT plus at most one check interval (a quarter of HEADERS_TIMEOUT here).
    expect(closedAfterMs).to.be.within(900, 2500);
  });

  it('answers headers trickled a byte at a time with 408 within HEADERS_TIMEOUT', async function () {
    const { answer, closedAfterMs } = await trickle(
      port,
      'GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ',
      'a',
      100,
    );
    expect(answer).to.match(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).to.be.within(900, 2500);
  });

  it('closes connections beyond MAX_CONNECTIONS as they arrive, logs it once, and serves again when one ends', async function () {
    const held = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    await Promise.all(held.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    for (const socket of held) socket.on('error', () => {});
    // Give the server the time to accept both before the third arrives.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const refused = await trickle(port, 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n', ' ', 1000);
    expect(refused.answer).to.equal('');
    expect(refused.closedAfterMs).to.be.below(500);
    expect(Date.now() - started).to.be.below(500);
    const warnings = logLines.filter((line) => line.includes('server.max_connections'));
    expect(warnings).to.have.length(1);
    expect(JSON.parse(warnings[0]!)).to.include({ maxConnections: 2 });

    for (const socket of held) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await requestOnce(port, '/health')).to.match(/^HTTP\/1\.1 200 /);
  });

  it('refuses HEADERS_TIMEOUT longer than REQUEST_TIMEOUT at start-up, naming the variable', function () {
    expect(() => loadConfig({ REQUEST_TIMEOUT: '5s', HEADERS_TIMEOUT: '10s' })).to.throw(
      ConfigErrors,
      /HEADERS_TIMEOUT: must not be longer than REQUEST_TIMEOUT \(10000 > 5000 ms\)/,
    );
    expect(() => loadConfig({ REQUEST_TIMEOUT: '500ms' })).to.throw(ConfigErrors, /REQUEST_TIMEOUT/);
    expect(loadConfig({})).to.include({ REQUEST_TIMEOUT: 60_000, HEADERS_TIMEOUT: 10_000, MAX_CONNECTIONS: 1000 });
  });
});

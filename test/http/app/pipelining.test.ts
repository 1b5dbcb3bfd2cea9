// createPortcullis().listen() answers at most 8 pipelined requests of a connection at once and closes
// connections left silent for IDLE_TIMEOUT (a client that pipelines and never reads), over real sockets.
import { expect } from 'chai';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import { createLogger, createPortcullis, loadConfig, type Portcullis } from 'portcullis';

const BIG = Buffer.alloc(1024 * 1024, 'x');
const STREAMED_CHUNK = Buffer.alloc(64 * 1024, 'y');
const STREAMED_CHUNKS = 160;

function get(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;
}

/** Writes `text` on a new connection and collects everything until the server closes it. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

/** The status lines of the answers in `text`, in order. */
function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
}

describe('createPortcullis().listen(): pipelined requests and silent connections', function () {
  this.timeout(15_000);
  let portcullis: Portcullis;
  let server: Server;
  let port: number;
  let bigCalls = 0;
  /** When the server finished writing the last /streamed answer (all of it handed to the kernel). */
  let streamedFinishedAt = 0;
  /** Server side sockets, so a test sees when the server, not the client, closes one. */
  const serverSockets: Socket[] = [];

  before(async function () {
    const config = loadConfig({
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: '0',
      REQUEST_TIMEOUT: '2s',
      HEADERS_TIMEOUT: '1s',
      IDLE_TIMEOUT: '1s',
    });
    portcullis = await createPortcullis(config, { logger: createLogger({ level: 'silent' }) });
    const app = express();
    // A large answer written in one piece (as /openapi.json is), counted to see how often the app runs.
    app.get('/big', (_req, res) => {
      bigCalls++;
      res.type('text/plain').end(BIG);
    });
    // A large answer written in chunks as the client takes them in (as attachments are).
    app.get('/streamed', async (_req, res) => {
      res.once('finish', () => (streamedFinishedAt = Date.now()));
      res.setHeader('Content-Length', String(STREAMED_CHUNK.length * STREAMED_CHUNKS));
      for (let i = 0; i < STREAMED_CHUNKS && !res.destroyed; i++) {
        if (!res.write(STREAMED_CHUNK)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
    });
    app.use(portcullis.app());
    server = await portcullis.listen(app);
    server.on('connection', (socket: Socket) => serverSockets.push(socket));
    port = (server.address() as AddressInfo).port;
  });

  after(async function () {
    for (const socket of serverSockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await portcullis.close();
  });

  it('runs at most 8 requests of a client that pipelines hundreds and never reads, and closes it within IDLE_TIMEOUT', async function () {
    bigCalls = 0;
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    // Never read: the answers pile up in the server until it gives up on the connection.
    client.pause();
    await new Promise((resolve) => client.once('connect', resolve));
    const started = Date.now();
    client.write(get('/big').repeat(400));
    const socket = await accepted;
    // Waits 5 s at most, so a connection left open fails the assertion below rather than the test's timeout.
    const closedAfterMs = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(Infinity), 5000);
      const closed = () => {
        clearTimeout(timer);
        resolve(Date.now() - started);
      };
      if (socket.destroyed) closed();
      else socket.once('close', closed);
    });
    client.destroy();
    expect(bigCalls).to.equal(8);
    // IDLE_TIMEOUT (1 s) after the last byte the client took in; Node's default never closes it.
    expect(closedAfterMs).to.be.within(900, 3000);
  });

  it('answers the request past the cap with 429 problem+json and closes the connection', async function () {
    bigCalls = 0;
    const answer = await exchange(port, get('/health').repeat(8) + get('/big') + get('/health').repeat(20));
    expect(statuses(answer)).to.deep.equal([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    expect(bigCalls, 'the refused request does not reach the app').to.equal(0);
    const refusal = answer.slice(answer.lastIndexOf('HTTP/1.1 429'));
    expect(refusal).to.match(/\r\nContent-Type: application\/problem\+json\r\n/i);
    expect(refusal).to.match(/\r\nConnection: close\r\n/i);
    expect(JSON.parse(refusal.slice(refusal.indexOf('\r\n\r\n') + 4))).to.include({
      status: 429,
      code: 'too_many_pipelined_requests',
    });
  });

  it('keeps serving a keep-alive client that pipelines within the cap, waits, and downloads slowly', async function () {
    const client = connect(port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    let received: Buffer = Buffer.alloc(0);
    let closed = false;
    client.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    client.on('close', () => (closed = true));
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise((resolve) => setTimeout(resolve, 10));
    };

    client.write(get('/health').repeat(8));
    await until(() => statuses(received.toString('latin1')).length === 8);
    expect(statuses(received.toString('latin1'))).to.deep.equal(Array(8).fill(200));

    // Idle between requests for less than keep-alive's 5 s but more than IDLE_TIMEOUT: still open.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    received = Buffer.alloc(0);
    client.write(get('/health'));
    await until(() => statuses(received.toString('latin1')).length === 1);
    expect(closed).to.equal(false);

    // A 10 MB download taken in at most 64 KB every 20 ms: the server is still writing it well after
    // IDLE_TIMEOUT, and each chunk taken in restarts the clock.
    received = Buffer.alloc(0);
    const size = STREAMED_CHUNK.length * STREAMED_CHUNKS;
    client.removeAllListeners('data');
    client.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      client.pause();
      setTimeout(() => client.resume(), 20);
    });
    const started = Date.now();
    client.write(get('/streamed'));
    await until(() => closed || received.length >= size);
    expect(closed).to.equal(false);
    const text = received.toString('latin1');
    expect(statuses(text.slice(0, 20))).to.deep.equal([200]);
    expect(received.length - (text.indexOf('\r\n\r\n') + 4)).to.equal(size);
    expect(streamedFinishedAt - started).to.be.above(1500);
    client.destroy();
  });
});

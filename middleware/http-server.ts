// The HTTP server createPortcullis listens with: bounded time to receive a request, to stay silent, and caps
// on connections (in all and per client address) and on the pipelined requests of one connection.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { clientAddress, ipRangesFrom, type IpRanges } from '../src/ip.js';
import { integerOption } from '../src/options.js';
import type { Logger } from '../src/logger.js';
import { handleClientErrors, problemBody } from './client-error.js';

export interface HttpServerLimits {
  /** Longest time to receive one whole request (headers and body), in ms; slower ones get 408. Required. */
  requestTimeoutMs: number;
  /** Longest time to receive a request's headers, in ms, at most `requestTimeoutMs`. Required. */
  headersTimeoutMs: number;
  /** Most connections open at once; further ones are closed as they arrive. Required. */
  maxConnections: number;
  /**
   * Most connections open at once from one client address (the TCP peer; `::ffff:a.b.c.d` is `a.b.c.d`), at
   * most `maxConnections`; further ones are closed as they arrive. Default 100, or `maxConnections` if lower.
   */
  maxConnectionsPerClient?: number;
  /**
   * Addresses or CIDR ranges exempt from `maxConnectionsPerClient`: a reverse proxy carries many clients on
   * its own address. The same entries as TRUSTED_PROXIES. Default none.
   */
  trustedProxies?: readonly string[];
  /**
   * Longest time a connection may go with nothing read from it or written to it while a request is received
   * or answered, in ms; it is then destroyed (a client that stops reading its answers). Required.
   */
  idleTimeoutMs: number;
  /**
   * Most requests of one connection being answered at once (HTTP pipelining); the next one gets 429
   * `too_many_pipelined_requests` with `Connection: close` without reaching `listener`. Default 8.
   */
  maxPipelinedRequests?: number;
  logger?: Pick<Logger, 'warn'>;
  /** Clock of the once-a-minute drop warning. Default `Date.now`. */
  now?: () => number;
}

const DROP_WARNING_INTERVAL_MS = 60_000;
const DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 100;

/** Counts `dropped` and calls `warn(dropped)` at most once a minute with those counted since the last call. */
function dropWarning(now: () => number, warn: (dropped: number) => void): () => void {
  let warnedAt = -Infinity;
  let dropped = 0;
  return () => {
    dropped++;
    if (now() - warnedAt < DROP_WARNING_INTERVAL_MS) return;
    warnedAt = now();
    warn(dropped);
    dropped = 0;
  };
}

/**
 * Closes a connection as it arrives when its client address already holds `max` open ones, so that one client
 * cannot take all of MAX_CONNECTIONS (say with requests whose headers never end) and lock everyone else out.
 * Node's own `maxConnections` counts all clients together. Addresses in `exempt` are not counted.
 */
function limitPerClient(server: Server, max: number, exempt: IpRanges, onDrop: () => void): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    // undefined once the peer is already gone: such a socket closes by itself.
    const address = clientAddress(socket.remoteAddress);
    if (address === undefined || exempt.has(address)) return;
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.destroy();
      onDrop();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const current = open.get(address) ?? 1;
      if (current <= 1) open.delete(address);
      else open.set(address, current - 1);
    });
  });
}

const TOO_MANY_PIPELINED = problemBody(
  429,
  'Too Many Requests',
  'Too many requests were sent on this connection before their answers were read; send the rest again on a new connection.',
  'too_many_pipelined_requests',
);

/**
 * `listener`, run for at most `max` requests of one connection at a time. Node runs the handler of every
 * request parsed from one chunk at once and holds their answers until the client reads them, so a client
 * pipelining thousands of requests and reading nothing would otherwise make the process build and buffer
 * thousands of answers.
 */
function limitPipelining(listener: RequestListener, max: number): RequestListener {
  // Requests of a connection being answered; -1 once it was refused: the connection closes after that answer,
  // so what the client sent after it is neither run nor answered.
  const inFlight = new WeakMap<object, number>();
  return function portcullisPipelineLimit(req: IncomingMessage, res: ServerResponse) {
    const socket = req.socket;
    const count = inFlight.get(socket) ?? 0;
    if (count < 0) return;
    if (count >= max) {
      inFlight.set(socket, -1);
      // Read no more from a client told to go away (its later requests would only pile up unanswered).
      socket.pause();
      res.writeHead(429, {
        'Content-Type': 'application/problem+json',
        'Content-Length': Buffer.byteLength(TOO_MANY_PIPELINED),
        Connection: 'close',
      });
      res.end(TOO_MANY_PIPELINED);
      return;
    }
    inFlight.set(socket, count + 1);
    // 'close' comes once the answer is handed to the socket, or the connection is gone: an answer queued behind
    // unread ones still counts.
    res.once('close', () => {
      const current = inFlight.get(socket) ?? 0;
      if (current > 0) inFlight.set(socket, current - 1);
    });
    listener(req, res);
  };
}

/**
 * An HTTP server for `listener` whose clients cannot hold a connection by sending slowly or by not reading:
 * Node's own defaults give a request 300 s and check only every 30 s, never time out a silent connection, and
 * cap neither connections nor pipelined requests.
 */
export function createHttpServer(listener: RequestListener, limits: HttpServerLimits): Server {
  const requestTimeout = integerOption('requestTimeoutMs', limits.requestTimeoutMs, { min: 1 });
  const headersTimeout = integerOption('headersTimeoutMs', limits.headersTimeoutMs, { min: 1, max: requestTimeout });
  const maxConnections = integerOption('maxConnections', limits.maxConnections, { min: 1 });
  const maxPerClient = integerOption('maxConnectionsPerClient', limits.maxConnectionsPerClient, {
    fallback: Math.min(DEFAULT_MAX_CONNECTIONS_PER_CLIENT, maxConnections),
    min: 1,
    max: maxConnections,
  });
  const exempt = ipRangesFrom(limits.trustedProxies ?? [], 'trustedProxies');
  const idleTimeout = integerOption('idleTimeoutMs', limits.idleTimeoutMs, { min: 1 });
  const maxPipelined = integerOption('maxPipelinedRequests', limits.maxPipelinedRequests, { fallback: 8, min: 1 });
  const now = limits.now ?? Date.now;
  const server = createServer(
    {
      requestTimeout,
      headersTimeout,
      // How often Node looks for late requests: a quarter of the timeout, at most a second, so a slow
      // request is cut at most that long after its deadline.
      connectionsCheckingInterval: Math.min(1000, Math.max(1, Math.floor(headersTimeout / 4))),
    },
    limitPipelining(listener, maxPipelined),
  );
  server.maxConnections = maxConnections;
  // Node's inactivity timeout (0 since Node 13): a socket neither read from nor written to for this long is
  // destroyed. Between requests Node's keepAliveTimeout (5 s) replaces it.
  server.timeout = idleTimeout;
  server.on(
    'drop',
    dropWarning(now, (dropped) =>
      limits.logger?.warn(
        { code: 'server.max_connections', maxConnections, dropped },
        'connections refused: MAX_CONNECTIONS are open',
      ),
    ),
  );
  limitPerClient(
    server,
    maxPerClient,
    exempt,
    dropWarning(now, (dropped) =>
      limits.logger?.warn(
        { code: 'server.max_connections_per_client', maxConnectionsPerClient: maxPerClient, dropped },
        'connections refused: a client address has MAX_CONNECTIONS_PER_CLIENT open',
      ),
    ),
  );
  return handleClientErrors(server);
}

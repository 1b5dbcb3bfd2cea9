// Answers requests Node rejects before Express sees them (oversized, malformed or too slow) with problem+json.
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** The problem+json body of the answers written outside Express (here and by `createHttpServer`). */
export function problemBody(status: number, title: string, detail: string, code: string): string {
  return JSON.stringify({ type: `https://portcullis.dev/problems/${code}`, title, status, detail, code });
}

function problem(status: number, title: string, detail: string, code: string): string {
  const body = problemBody(status, title, detail, code);
  return [
    `HTTP/1.1 ${status} ${title}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

const HEADERS_TOO_LARGE = problem(
  431,
  'Request Header Fields Too Large',
  'The request headers are too large.',
  'headers_too_large',
);
const BAD_REQUEST = problem(400, 'Bad Request', 'The request could not be parsed.', 'bad_request');
const REQUEST_TIMEOUT = problem(
  408,
  'Request Timeout',
  'The request was not received in time; send it again, faster.',
  'request_timeout',
);

const ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: HEADERS_TOO_LARGE,
  // The server's requestTimeout or headersTimeout passed before the whole request arrived.
  ERR_HTTP_REQUEST_TIMEOUT: REQUEST_TIMEOUT,
};

/** The response the connection carries, when Express has begun answering on it (Node's own check too). */
function answering(socket: Duplex): boolean {
  return (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
}

/**
 * Installs a `clientError` listener: header overflow gets 431, a request not received within the server's
 * `requestTimeout` / `headersTimeout` 408, other parse errors 400, all as problem+json (Node's default is a
 * bare status line). Call once on the server returned by `app.listen()`.
 */
export function handleClientErrors(server: Server): Server {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (error.code === 'ECONNRESET' && socket.destroyed) || answering(socket)) {
      socket.destroy();
      return;
    }
    socket.end(ANSWERS[error.code ?? ''] ?? BAD_REQUEST);
  });
  return server;
}

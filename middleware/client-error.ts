// Answers requests Node rejects before Express sees them (oversized or malformed headers) with problem+json.
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

function problem(status: number, title: string, detail: string, code: string): string {
  const body = JSON.stringify({ type: `https://portcullis.dev/problems/${code}`, title, status, detail, code });
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

/**
 * Installs a `clientError` listener: header overflow gets 431, other parse errors 400, both as problem+json
 * (Node's default is a bare status line). Call once on the server returned by `app.listen()`.
 */
export function handleClientErrors(server: Server): Server {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (error.code === 'ECONNRESET' && socket.destroyed)) {
      socket.destroy();
      return;
    }
    socket.end(error.code === 'HPE_HEADER_OVERFLOW' ? HEADERS_TOO_LARGE : BAD_REQUEST);
  });
  return server;
}

// Files attached to a record: /:id/attachments routes over an AttachmentStore, the record's permissions deciding.
import { create as contentDisposition, parse as parseContentDisposition } from 'content-disposition';
import type { Request, RequestHandler, Response } from 'express';
import type { AttachmentMeta, AttachmentStore } from '../../src/contracts/attachments.js';
import type { CrudAction } from '../../src/auth/scopes.js';
import {
  ConfigError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
  type FieldProblem,
} from '../../src/errors.js';
import { checkOptions, integerOption } from '../../src/options.js';
import {
  DEFAULT_ATTACHMENT_MAX_BYTES,
  DEFAULT_ATTACHMENT_TYPES,
  MEDIA_RANGE,
  MEDIA_TYPE,
} from '../../src/media-type.js';
import { contextOf } from '../context.js';
import { throwProblems } from './body.js';
import { objectBody } from '../json-body.js';
import { storeForRecord } from './residency.js';
import { audit, scopeFor, type CrudState } from './state.js';

export interface AttachmentOptions {
  /**
   * Where the files go: `MemoryAttachmentStore` (`portcullis/memory`), `MongoAttachmentStore` (GridFS,
   * `portcullis/mongodb`), or either inside an `EncryptedAttachmentStore` — required when the records store
   * is encrypted.
   */
  store: AttachmentStore;
  /** Largest file in bytes; larger uploads get 413 and leave nothing (`ATTACHMENT_MAX_BYTES`). Default 10 MiB. */
  maxBytes?: number;
  /**
   * Media types accepted, exactly (`application/pdf`) or by kind (`image/*`); `*∕*` takes any
   * (`ATTACHMENT_TYPES`). Default {@link DEFAULT_ATTACHMENT_TYPES}.
   */
  types?: readonly string[];
}

export { DEFAULT_ATTACHMENT_MAX_BYTES, DEFAULT_ATTACHMENT_TYPES };
const FILENAME_MAX = 255;

interface Settings {
  store: AttachmentStore;
  maxBytes: number;
  accepts: (mediaType: string) => boolean;
}

/** Checks the `attachments` option once, at creation. */
function settingsOf(options: AttachmentOptions, encryptedRecords: boolean): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('crudRouter.attachments', 'must be an object with a store');
  }
  checkOptions('crudRouter.attachments', options, ['store', 'maxBytes', 'types'], { path: 'crudRouter.attachments' });
  const store = options.store;
  for (const method of ['put', 'list', 'get', 'open', 'update', 'remove'] as const) {
    if (typeof store?.[method] !== 'function') {
      throw new ConfigError('crudRouter.attachments.store', `must implement the AttachmentStore contract (${method})`);
    }
  }
  if (encryptedRecords && !store.encrypted) {
    throw new ConfigError(
      'crudRouter.attachments.store',
      'the records are encrypted: wrap the attachment store in an EncryptedAttachmentStore so files are too',
    );
  }
  const maxBytes = integerOption('crudRouter.attachments.maxBytes', options.maxBytes, {
    fallback: DEFAULT_ATTACHMENT_MAX_BYTES,
    min: 1,
  });
  const types = options.types ?? DEFAULT_ATTACHMENT_TYPES;
  if (!Array.isArray(types) || types.length === 0) {
    throw new ConfigError('crudRouter.attachments.types', 'must be a non-empty list of media types');
  }
  const exact = new Set<string>();
  const kinds = new Set<string>();
  let any = false;
  for (const [index, type] of types.entries()) {
    const lower = typeof type === 'string' ? type.trim().toLowerCase() : '';
    if (!MEDIA_RANGE.test(lower)) {
      throw new ConfigError(
        `crudRouter.attachments.types[${index}]`,
        'must be a media type (text/plain), a kind (image/*) or */*',
      );
    }
    if (lower === '*/*') any = true;
    else if (lower.endsWith('/*')) kinds.add(lower.slice(0, -2));
    else exact.add(lower);
  }
  const accepts = (mediaType: string) => any || exact.has(mediaType) || kinds.has(mediaType.split('/')[0]!);
  return { store, maxBytes, accepts };
}

/** The request's media type, lower case and without parameters; a 415 when missing or not accepted. */
function mediaTypeOf(value: unknown, settings: Settings, field: string): string {
  const mediaType = typeof value === 'string' ? value.split(';')[0]!.trim().toLowerCase() : '';
  if (!MEDIA_TYPE.test(mediaType)) {
    throw new UnsupportedMediaTypeError(`The ${field} must name the file's media type (e.g. application/pdf).`, {
      code: 'unsupported_media_type.attachment',
    });
  }
  if (!settings.accepts(mediaType)) {
    throw new UnsupportedMediaTypeError(`Files of type ${mediaType} are not accepted here.`, {
      code: 'unsupported_media_type.attachment',
    });
  }
  return mediaType;
}

/**
 * Bidirectional controls (U+202E and kin) make a name display other than it is (`cod.exe` shown as `exe.doc`);
 * removed like the control characters.
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A filename without directories or control characters, 1 to 255 characters; undefined when none is left. */
function cleanFilename(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const name = (value.split(/[\\/]/).pop() ?? '')
    // eslint-disable-next-line no-control-regex -- control characters are what is removed
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(BIDI_CONTROLS, '')
    .trim();
  return name.length === 0 || name.length > FILENAME_MAX || name === '.' || name === '..' ? undefined : name;
}

function filenameProblem(): ValidationError {
  return new ValidationError(
    `Name the file with a Content-Disposition header, e.g. attachment; filename="scan.pdf" (1 to ${FILENAME_MAX} characters).`,
    {
      code: 'validation.filename',
      errors: [{ field: 'filename', code: 'validation.filename', message: 'A file name is required.' }],
    },
  );
}

// A parameter named twice is ambiguous (the parser keeps the first, a proxy or a browser may keep another).
const FILENAME_PARAMETER = /(?:^|;)\s*filename\s*=/gi;
const EXTENDED_FILENAME_PARAMETER = /(?:^|;)\s*filename\*\s*=/gi;

function filenameOf(req: Request): string {
  const header = req.headers['content-disposition'];
  if (typeof header !== 'string') throw filenameProblem();
  if (
    (header.match(FILENAME_PARAMETER)?.length ?? 0) > 1 ||
    (header.match(EXTENDED_FILENAME_PARAMETER)?.length ?? 0) > 1
  ) {
    throw filenameProblem();
  }
  let parsed: ReturnType<typeof parseContentDisposition>;
  try {
    parsed = parseContentDisposition(header);
  } catch {
    throw filenameProblem();
  }
  const raw = parsed.parameters.filename;
  const name = cleanFilename(header.match(EXTENDED_FILENAME_PARAMETER) || typeof raw !== 'string' ? raw : utf8Of(raw));
  if (!name) throw filenameProblem();
  return name;
}

/**
 * Node reads header bytes as Latin-1, and clients such as curl send a plain `filename="été.txt"` as raw UTF-8:
 * a value whose bytes are valid UTF-8 is read as such (`filename*=UTF-8''…` is the standard way, and decoded
 * by the parser).
 */
function utf8Of(value: string): string {
  // eslint-disable-next-line no-control-regex -- bytes above ASCII are what is looked for
  if (!/[^\u0000-\u007f]/.test(value)) return value;
  const bytes = Buffer.from(value, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : value;
}

/** A 413 that also closes the connection: the rest of the body is not worth reading. */
function tooLarge(req: Request, maxBytes: number): PayloadTooLargeError {
  if (!req.res?.headersSent) req.res?.setHeader('Connection', 'close');
  return new PayloadTooLargeError(`A file may have at most ${maxBytes} bytes.`, {
    code: 'payload_too_large.attachment',
  });
}

/** The request body, at most `maxBytes`; fails when the client stops before sending what it announced. */
async function* bodyOf(req: Request, maxBytes: number): AsyncGenerator<Buffer> {
  let received = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > maxBytes) throw tooLarge(req, maxBytes);
      yield chunk;
    }
  } catch (error) {
    // A client that went away (ECONNRESET "aborted") is a client error, not a failure of the server.
    if (error instanceof PayloadTooLargeError || !req.destroyed) throw error;
    throw truncated(error);
  }
  // An aborted upload can also end the stream without an error; a complete message says it is complete.
  if (!req.complete) throw truncated();
}

function truncated(cause?: unknown): ValidationError {
  return new ValidationError('The upload was cut off before its end.', { code: 'validation.truncated', cause });
}

/** What a caller sees of a file. */
function present(meta: AttachmentMeta): Record<string, unknown> {
  return {
    fileId: meta.fileId,
    filename: meta.filename,
    mimeType: meta.mimeType,
    size: meta.size,
    sha256: meta.sha256,
    createdAt: meta.createdAt,
    updatedAt: meta.updatedAt,
  };
}

function fileMissing(): NotFoundError {
  return new NotFoundError('The record has no such file.', { code: 'not_found.attachment' });
}

export interface AttachmentMount {
  guard: RequestHandler;
  json: RequestHandler;
  authorize: (action: CrudAction) => RequestHandler[];
  route: (handler: (req: Request, res: Response) => Promise<void>) => RequestHandler;
}

/**
 * Mounts `GET|POST /:id/attachments` and `GET|PATCH|DELETE /:id/attachments/:fileId`. Reading (list,
 * download) needs the record's `read` action and the record to be readable by the caller; changing (add,
 * rename, delete) its `update` action and the record to be updatable by them (record filters and guard).
 */
export function mountAttachments(
  router: { get: RouterMethod; post: RouterMethod; patch: RouterMethod; delete: RouterMethod },
  state: CrudState,
  options: AttachmentOptions,
  mount: AttachmentMount,
): void {
  const settings = settingsOf(options, state.blindIndex !== undefined);
  const { store } = settings;
  const { guard, json, authorize, route } = mount;

  /** The record, when the caller may perform `action` on it; 404 otherwise (as for the record itself). */
  const recordFor = async (req: Request, action: CrudAction): Promise<string> => {
    const id = String(req.params.id);
    const record = await storeForRecord(state, req).get(id, scopeFor(state, req, state.live, action));
    if (!record)
      throw new NotFoundError(`No ${state.resource} record ${id.slice(0, 64)}.`, { code: 'not_found.record' });
    return record.id;
  };
  /**
   * First on every attachment route, so a refused request is recorded under the same action as an allowed one,
   * and the body (a new file name) never reaches the event: file names are often personal data.
   */
  const label =
    (action: string): RequestHandler =>
    (req, _res, next) => {
      const draft = contextOf(req).audit;
      if (draft) {
        draft.action = action;
        draft.resource = state.resource;
        draft.omitBody = true;
      }
      next();
    };
  // A record deleted for good takes its files along; a record in the trash keeps them for its restore.
  state.purgeFiles = async (id) => {
    for (const file of await store.list(id)) await store.remove(id, file.fileId);
  };
  const note = (req: Request, action: string, id: string, file?: AttachmentMeta) => {
    audit(req, state, { action, resourceId: id });
    const draft = contextOf(req).audit;
    // The name stays out: file names are often personal data.
    if (draft && file) draft.extra.attachment = { fileId: file.fileId, mimeType: file.mimeType, size: file.size };
  };

  const list = async (req: Request, res: Response) => {
    const id = await recordFor(req, 'read');
    const files = await store.list(id);
    note(req, 'ATTACHMENT_LIST', id);
    res.json({ items: files.map(present) });
  };

  const add = async (req: Request, res: Response) => {
    const announced = Number(req.headers['content-length']);
    if (Number.isFinite(announced) && announced > settings.maxBytes) throw tooLarge(req, settings.maxBytes);
    const encoding = req.headers['content-encoding'];
    // The body is stored as sent: a compressed one would be kept compressed under the type it names.
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new UnsupportedMediaTypeError(
        `Content-Encoding ${encoding.slice(0, 64)} is not accepted for files; send the file as it is.`,
        { code: 'unsupported_media_type.attachment' },
      );
    }
    const mimeType = mediaTypeOf(req.headers['content-type'], settings, 'Content-Type header');
    const filename = filenameOf(req);
    // A body parser before this route (an app-wide JSON parser, for a JSON file) has read the stream.
    if (req.readableEnded && req.body !== undefined) {
      throw new UnsupportedMediaTypeError(
        'Another body parser read this upload first; send the file as application/octet-stream or mount the router before that parser.',
        { code: 'unsupported_media_type.attachment' },
      );
    }
    const id = await recordFor(req, 'update');
    const file = await store.put({ recordId: id, filename, mimeType }, bodyOf(req, settings.maxBytes));
    // The record may have been deleted for good while the file streamed in, after purgeFiles listed its files:
    // a file kept now could never be reached nor deleted.
    try {
      await recordFor(req, 'update');
    } catch (error) {
      await store.remove(id, file.fileId);
      throw error;
    }
    note(req, 'ATTACHMENT_ADD', id, file);
    res.status(201);
    res.setHeader(
      'Location',
      `${req.baseUrl}/${encodeURIComponent(id)}/attachments/${encodeURIComponent(file.fileId)}`,
    );
    res.json(present(file));
  };

  const download = async (req: Request, res: Response) => {
    const id = await recordFor(req, 'read');
    const fileId = String(req.params.fileId);
    const file = await store.get(id, fileId);
    const content = file && (await store.open(id, fileId));
    if (!file || !content) throw fileMissing();
    const iterator = content[Symbol.asyncIterator]();
    // The first chunk is read before the answer starts, so a file that cannot be read (or decrypted) at all is
    // an error response; a failure later can only cut the transfer short, which the client sees.
    const first = await iterator.next();
    note(req, 'ATTACHMENT_GET', id, file);
    res.setHeader('Content-Type', file.mimeType);
    res.setHeader('Content-Length', String(file.size));
    res.setHeader('Content-Disposition', contentDisposition(file.filename));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    try {
      for (let step = first; !step.done; step = await iterator.next()) {
        if (!res.write(step.value)) await drainedOrClosed(res);
        if (res.destroyed) break;
      }
    } catch (error) {
      res.destroy(error instanceof Error ? error : undefined);
      return;
    } finally {
      await iterator.return?.();
    }
    res.end();
  };

  const rename = async (req: Request, res: Response) => {
    const body = objectBody(req.body);
    const problems: FieldProblem[] = [];
    const changes: { filename?: string; mimeType?: string } = {};
    for (const key of Object.keys(body)) {
      if (key === 'filename') {
        const name = cleanFilename(body.filename);
        if (name) changes.filename = name;
        else
          problems.push({
            field: 'filename',
            code: 'validation.filename',
            message: `"filename" must be 1 to ${FILENAME_MAX} characters, without directories.`,
          });
      } else if (key === 'mimeType') {
        changes.mimeType = mediaTypeOf(body.mimeType, settings, '"mimeType"');
      } else {
        problems.push({
          field: key.slice(0, 128),
          code: 'validation.unknown_field',
          message: `"${key.slice(0, 128)}" cannot be changed; only filename and mimeType.`,
        });
      }
    }
    throwProblems(problems);
    if (Object.keys(changes).length === 0) {
      throw new ValidationError('Send a filename or a mimeType to change.', { code: 'validation.body' });
    }
    const id = await recordFor(req, 'update');
    const file = await store.update(id, String(req.params.fileId), changes);
    if (!file) throw fileMissing();
    note(req, 'ATTACHMENT_UPDATE', id, file);
    res.json(present(file));
  };

  const remove = async (req: Request, res: Response) => {
    const id = await recordFor(req, 'update');
    const fileId = String(req.params.fileId);
    if (!(await store.remove(id, fileId))) throw fileMissing();
    note(req, 'ATTACHMENT_DELETE', id);
    const draft = contextOf(req).audit;
    if (draft) draft.extra.attachment = { fileId };
    res.status(204).end();
  };

  router.get('/:id/attachments', label('ATTACHMENT_LIST'), guard, ...authorize('read'), route(list));
  router.post('/:id/attachments', label('ATTACHMENT_ADD'), guard, ...authorize('update'), route(add));
  router.get('/:id/attachments/:fileId', label('ATTACHMENT_GET'), guard, ...authorize('read'), route(download));
  router.patch(
    '/:id/attachments/:fileId',
    label('ATTACHMENT_UPDATE'),
    guard,
    json,
    ...authorize('update'),
    route(rename),
  );
  router.delete('/:id/attachments/:fileId', label('ATTACHMENT_DELETE'), guard, ...authorize('update'), route(remove));
}

type RouterMethod = (path: string, ...handlers: RequestHandler[]) => unknown;

/** Waits until `res` takes more, or is gone: a client that stops reading is cut (IDLE_TIMEOUT) and never drains. */
function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

// Mongoose plugin for field encryption: encrypts on write, decrypts on read, searches through blind indexes.
import type { Schema } from 'mongoose';
import { type Document, type Query } from 'mongoose';
import { ConfigError } from '../../src/errors.js';
import { isCiphertext } from '../../src/pii/field-cipher.js';
import { problemOf, type DecryptionProblem, type FieldEncryption } from '../../src/pii/field-encryption.js';
import { encryptUpdate } from './encrypt-update.js';

export interface EncryptionPluginOptions {
  /** The field-encryption codec (`createFieldEncryption`), shared with other stores and the CLI. */
  encryption: FieldEncryption;
}

/** Where lean results keep their decryption problems (a symbol: never serialized into a response). */
export const decryptionProblems = Symbol.for('portcullis.decryptionProblems');
const STASH = 'portcullisPlaintext';
const PROBLEMS = 'portcullisDecryptionProblems';

type Doc = Document & { $locals: Record<string, unknown> };
type Lean = Record<string | symbol, unknown>;

const QUERY_OPS = [
  'find',
  'findOne',
  'countDocuments',
  'deleteMany',
  'deleteOne',
  'distinct',
  'findOneAndDelete',
  'findOneAndUpdate',
  'findOneAndReplace',
  'replaceOne',
  'updateMany',
  'updateOne',
] as const;
const UPDATE_OPS = ['findOneAndUpdate', 'findOneAndReplace', 'replaceOne', 'updateMany', 'updateOne'] as const;
const READ_OPS = ['find', 'findOne', 'findOneAndUpdate', 'findOneAndReplace', 'findOneAndDelete'] as const;

/**
 * `schema.plugin(fieldEncryption, { encryption })`. Encrypted paths must be declared as `String` or `Mixed`
 * (ciphertext is a string); the plugin adds each blind-index path and the version path (left out of `toJSON()`/`toObject()`).
 * Reads never throw for a record that cannot be decrypted: the field is left unset and the problem is kept
 * for `decryptionErrorsOf(doc)` / `splitDecrypted(docs)`.
 */
export function fieldEncryption(schema: Schema, options: EncryptionPluginOptions): void {
  const encryption = options?.encryption;
  if (!encryption || typeof encryption.encryptRecord !== 'function') {
    throw new ConfigError('encryption', 'must be a FieldEncryption from createFieldEncryption()');
  }
  for (const path of encryption.paths) {
    const type = schema.path(path);
    if (!type) throw new ConfigError('encryption.fields', `"${path}" is not a path of the schema`);
    if (type.instance !== 'String' && type.instance !== 'Mixed') {
      throw new ConfigError(
        'encryption.fields',
        `"${path}" is ${type.instance}; encrypted paths must be String or Mixed`,
      );
    }
    if (encryption.isSearchable(path)) {
      schema.add(nested(encryption.indexField(path), { type: String, index: true }));
    }
  }
  schema.add({ [encryption.versionField]: { type: Number, index: true } });
  // Blind indexes and the version are storage details: keep them out of toJSON()/toObject() output.
  for (const option of ['toJSON', 'toObject'] as const) {
    const previous = (schema.get(option) ?? {}) as { transform?: unknown };
    schema.set(option, {
      ...previous,
      transform(doc: unknown, ret: Record<string, unknown>, transformOptions: unknown) {
        const stripped = encryption.stripDerived(ret);
        for (const key of Object.keys(ret)) if (!Object.hasOwn(stripped, key)) delete ret[key];
        for (const [key, value] of Object.entries(stripped)) ret[key] = value;
        return typeof previous.transform === 'function' ? previous.transform(doc, ret, transformOptions) : ret;
      },
    });
  }

  schema.pre('save', function encryptOnSave() {
    const doc = this as unknown as Doc;
    if (!doc.isNew && !encryption.paths.some((path) => doc.isModified(path))) return;
    const failed = new Set(((doc.$locals[PROBLEMS] as DecryptionProblem[] | undefined) ?? []).map((p) => p.field));
    const stash: Record<string, unknown> = {};
    let complete = true;
    for (const path of encryption.paths) {
      if (failed.has(path) && !doc.isModified(path)) {
        // Never overwrite what we could not read: the stored ciphertext stays as it is.
        complete = false;
        continue;
      }
      const value: unknown = doc.get(path);
      if (value === undefined) continue;
      if (value === null) {
        if (encryption.isSearchable(path)) doc.set(encryption.indexField(path), null);
        continue;
      }
      stash[path] = value;
      const encrypted = encryption.encryptValue(path, value);
      doc.set(path, encrypted.value);
      if (encrypted.index !== undefined) doc.set(encryption.indexField(path), encrypted.index);
    }
    if (complete) doc.set(encryption.versionField, encryption.ring.current);
    doc.$locals[STASH] = stash;
  });

  const restore = (doc: Doc) => {
    const stash = doc.$locals[STASH] as Record<string, unknown> | undefined;
    if (!stash) return;
    delete doc.$locals[STASH];
    for (const [path, value] of Object.entries(stash)) {
      doc.set(path, value);
      doc.unmarkModified(path);
    }
  };
  schema.post('save', function restoreAfterSave(this: unknown) {
    restore(this as Doc);
  });
  // An error handler (four arguments) so a failed save does not leave ciphertext in the caller's document.
  (schema as unknown as { post(name: string, fn: unknown): void }).post(
    'save',
    function restoreAfterFailedSave(error: unknown, doc: unknown, next: (error?: unknown) => void) {
      restore(doc as Doc);
      next(error);
    },
  );

  schema.post('init', function decryptOnLoad(this: unknown) {
    const doc = this as Doc;
    const problems: DecryptionProblem[] = [];
    for (const path of encryption.paths) {
      const stored: unknown = doc.get(path);
      if (!isCiphertext(stored)) continue;
      try {
        doc.set(path, encryption.decryptValue(path, stored));
      } catch (error) {
        problems.push(problemOf(error, doc._id));
        doc.set(path, undefined);
      }
      doc.unmarkModified(path);
    }
    if (problems.length > 0) doc.$locals[PROBLEMS] = problems;
  });

  schema.pre(QUERY_OPS as unknown as 'find'[], function rewriteFilter(this: Query<unknown, unknown>) {
    this.setQuery(encryption.rewriteFilter(this.getFilter() as Record<string, unknown>));
  });

  schema.pre(
    UPDATE_OPS as unknown as 'updateOne'[],
    { document: false, query: true },
    function encryptUpdates(this: Query<unknown, unknown>) {
      const update = this.getUpdate();
      if (!update) return;
      const op = (this as unknown as { op?: string }).op;
      const replacement = op === 'replaceOne' || op === 'findOneAndReplace';
      this.setUpdate(encryptUpdate(encryption, update as Record<string, unknown>, replacement) as never);
    },
  );

  schema.post(READ_OPS as unknown as 'find'[], function decryptLean(this: Query<unknown, unknown>, result: unknown) {
    if (!this.mongooseOptions().lean) return;
    for (const record of Array.isArray(result) ? result : [result]) {
      if (typeof record === 'object' && record !== null) decryptLeanRecord(encryption, record as Lean);
    }
  });

  schema.pre('insertMany', function encryptInsertMany(docs: unknown) {
    const list = Array.isArray(docs) ? docs : [docs];
    list.forEach((item, index) => {
      const plain = typeof (item as Doc)?.toObject === 'function' ? (item as Doc).toObject() : item;
      const encrypted = encryption.encryptRecord(plain as Record<string, unknown>);
      if (Array.isArray(docs)) docs[index] = encrypted;
      else Object.assign(docs as object, encrypted);
    });
  });
  schema.post('insertMany', function decryptInserted(docs: unknown) {
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (typeof (doc as Doc)?.get !== 'function') continue;
      for (const path of encryption.paths) {
        const stored: unknown = (doc as Doc).get(path);
        if (isCiphertext(stored)) {
          (doc as Doc).set(path, encryption.decryptValue(path, stored));
          (doc as Doc).unmarkModified(path);
        }
      }
    }
  });
}

function nested(path: string, definition: unknown): Parameters<Schema['add']>[0] {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, part) => ({ [part]: inner }), definition) as Parameters<Schema['add']>[0];
}

function decryptLeanRecord(encryption: FieldEncryption, record: Lean): void {
  const problems: DecryptionProblem[] = [];
  for (const path of encryption.paths) {
    const parts = path.split('.');
    let holder: Lean | undefined = record;
    for (const part of parts.slice(0, -1)) {
      const next: unknown = holder?.[part];
      holder = typeof next === 'object' && next !== null ? (next as Lean) : undefined;
    }
    const last = parts[parts.length - 1]!;
    if (!holder || !isCiphertext(holder[last])) continue;
    try {
      holder[last] = encryption.decryptValue(path, holder[last]);
    } catch (error) {
      problems.push(problemOf(error, record._id));
      delete holder[last];
    }
  }
  if (problems.length > 0) Object.defineProperty(record, decryptionProblems, { value: problems, enumerable: false });
}

/** The decryption problems of a document or lean record read through the plugin (empty when it decrypted). */
export function decryptionErrorsOf(record: unknown): DecryptionProblem[] {
  if (typeof record !== 'object' || record === null) return [];
  const locals = (record as Partial<Doc>).$locals;
  const problems = locals ? locals[PROBLEMS] : (record as Lean)[decryptionProblems];
  return Array.isArray(problems) ? (problems as DecryptionProblem[]) : [];
}

/** Splits read results InCountry-style: records that decrypted, and a problem list for the others. */
export function splitDecrypted<T>(records: readonly T[]): { data: T[]; errors: DecryptionProblem[] } {
  const data: T[] = [];
  const errors: DecryptionProblem[] = [];
  for (const record of records) {
    const problems = decryptionErrorsOf(record);
    if (problems.length === 0) data.push(record);
    else errors.push(...problems);
  }
  return { data, errors };
}

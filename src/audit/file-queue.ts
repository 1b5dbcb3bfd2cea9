// The last-resort reliability queue: an append-only local file of batches, one JSON line each, fsynced.
import { open, readFile, rename, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import type { QueuedBatch, ReliabilityQueue } from '../contracts/queue.js';

export interface FileReliabilityQueueOptions {
  /** The queue file; `<path>.offset` beside it records how much was replayed. */
  path: string;
  /** fsync after each append so a crash or power loss keeps the batch. Default true. */
  sync?: boolean;
}

/**
 * One process owns one file. Replayed batches are not rewritten: the head offset moves forward
 * (written atomically beside the file) and the file is truncated once everything was replayed.
 */
export class FileReliabilityQueue implements ReliabilityQueue {
  readonly backend = 'file' as const;
  readonly #path: string;
  readonly #offsetPath: string;
  readonly #sync: boolean;
  #handle: FileHandle | undefined;
  #offset = 0;
  #end = 0;
  #count = 0;
  #head: { batch: QueuedBatch; next: number } | undefined;
  #ready: Promise<void> | undefined;

  constructor(options: FileReliabilityQueueOptions) {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new TypeError('FileReliabilityQueue: options.path is required');
    }
    this.#path = options.path;
    this.#offsetPath = `${options.path}.offset`;
    this.#sync = options.sync ?? true;
  }

  init(): Promise<void> {
    this.#ready ??= this.#load();
    return this.#ready;
  }

  async #load(): Promise<void> {
    this.#handle = await open(this.#path, 'a+');
    const content = await readFile(this.#path);
    // A line cut short by a crash was never acknowledged to anyone: drop it.
    const lastNewline = content.lastIndexOf(0x0a);
    this.#end = lastNewline + 1;
    if (this.#end < content.length) await truncate(this.#path, this.#end);
    const saved = Number(await readFile(this.#offsetPath, 'utf8').catch(() => '0'));
    this.#offset = Number.isSafeInteger(saved) && saved >= 0 && saved <= this.#end ? saved : 0;
    this.#count = 0;
    for (let index = this.#offset; index < this.#end; index++) if (content[index] === 0x0a) this.#count++;
  }

  async append(batch: QueuedBatch): Promise<void> {
    await this.init();
    const line = Buffer.from(`${JSON.stringify(batch)}\n`);
    await this.#handle!.write(line, 0, line.length, null);
    if (this.#sync) await this.#handle!.datasync();
    this.#end += line.length;
    this.#count++;
  }

  async peek(): Promise<QueuedBatch | undefined> {
    await this.init();
    if (this.#head) return this.#head.batch;
    if (this.#offset >= this.#end) return undefined;
    let size = 64 * 1024;
    for (;;) {
      const length = Math.min(size, this.#end - this.#offset);
      const buffer = Buffer.alloc(length);
      await this.#handle!.read(buffer, 0, length, this.#offset);
      const newline = buffer.indexOf(0x0a);
      if (newline >= 0) {
        const batch = JSON.parse(buffer.subarray(0, newline).toString('utf8')) as QueuedBatch;
        this.#head = { batch, next: this.#offset + newline + 1 };
        return batch;
      }
      if (length === this.#end - this.#offset) return undefined;
      size *= 4;
    }
  }

  async ack(id: string): Promise<void> {
    await this.init();
    if (!this.#head || this.#head.batch.id !== id) await this.peek();
    if (!this.#head || this.#head.batch.id !== id) return;
    this.#offset = this.#head.next;
    this.#head = undefined;
    this.#count--;
    if (this.#offset >= this.#end) {
      await this.#handle!.truncate(0);
      this.#offset = this.#end = 0;
    }
    const temporary = `${this.#offsetPath}.tmp`;
    await writeFile(temporary, String(this.#offset));
    await rename(temporary, this.#offsetPath);
  }

  async size(): Promise<number> {
    await this.init();
    return this.#count;
  }

  /** Bytes on disk, for metrics. */
  async bytes(): Promise<number> {
    return (await stat(this.#path).catch(() => ({ size: 0 }))).size;
  }

  async close(): Promise<void> {
    await this.#ready?.catch(() => undefined);
    await this.#handle?.close();
    this.#handle = undefined;
    this.#ready = undefined;
    this.#head = undefined;
  }
}

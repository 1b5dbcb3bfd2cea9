// A packed copy of every policy's JSON for full loads (a mirror's cold start): a few large documents tagged
// with the change-log revision they reflect, brought up to date from the change log when read. FerretDB v1
// spends about 0.1 ms of CPU per document it returns whatever its size, so 100 000 policy documents took
// 12-13 s to read there; the same policies in 100 documents of 1 000 take about 1 s (bench/
// policy-mirror-cold-start.ts). On MongoDB it saves the per-document overhead as well.
import { randomUUID } from 'node:crypto';
import type { mongo } from 'mongoose';
import type { Policy } from '../../src/abac/policy.js';
import { policyFromJSON } from '../../src/abac/policy-json.js';
import { mongoCall } from './errors.js';

/** The change log entry fields the snapshot reads. */
export interface LoggedChange {
  _id: number;
  uid: string;
  kind: 'add' | 'update' | 'delete' | 'reset';
  at: Date;
  doc?: string;
}

interface SnapshotMeta {
  _id: 'meta';
  /** The newest logged change when the snapshot's read began: every change up to it is in the chunks. */
  revision: number;
  /** That change's time: tells this history from a change log dropped and refilled to the same revision. */
  at: Date;
  /** Which save's chunks make it up. */
  save: string;
  chunks: number;
  count: number;
}

interface SnapshotChunk {
  _id: string;
  save: string;
  revision: number;
  chunk: number;
  /** A JSON array of the policies' Portcullis JSON, in uid order. */
  docs: string;
}

type SnapshotDocument = SnapshotMeta | SnapshotChunk;

/** Largest chunk text: far below the 16 MB document limit, large enough that a chunk holds thousands. */
const CHUNK_CHARS = 4 * 1024 * 1024;
/** More changes than this since the snapshot: read the policies instead (and snapshot them anew). */
const MAX_REPLAY = 200;
/**
 * Changes logged up to this many revisions below the snapshot's are replayed too: a writer may log revision
 * n after another logged n + 1 (the change feed's poll reads the same window for the same reason).
 */
const REPLAY_WINDOW = 50;

export class PolicySnapshot {
  constructor(
    private readonly snapshots: mongo.Collection<SnapshotDocument>,
    private readonly changes: mongo.Collection<LoggedChange>,
    private readonly chunkChars = CHUNK_CHARS,
  ) {}

  /**
   * Every policy, in uid order, from the snapshot and the changes logged since; `undefined` when there is
   * no usable snapshot:
   * none, of another history, or older than the change log still tells (trimmed, a `reset`, or more than
   * MAX_REPLAY changes).
   */
  async load(read: (uids: string[]) => Promise<Policy[]>): Promise<Policy[] | undefined> {
    const meta = (await mongoCall(() => this.snapshots.findOne({ _id: 'meta' }))) as SnapshotMeta | null;
    if (!meta) return undefined;
    const log = await mongoCall(() =>
      this.changes
        .find({ _id: { $gt: Math.max(0, meta.revision - REPLAY_WINDOW) } })
        .sort({ _id: 1 })
        .toArray(),
    );
    const tagged = log.find((change) => change._id === meta.revision);
    if (!tagged || tagged.at.getTime() !== meta.at.getTime()) return undefined;
    const newer = log.filter((change) => change._id > meta.revision);
    const current = log.at(-1)!._id;
    // Revisions are claimed one above the newest, so a full log has every one up to the current.
    if (newer.length !== current - meta.revision || newer.length > MAX_REPLAY) return undefined;
    if (newer.some((change) => change.kind === 'reset')) return undefined;

    const chunks = (await mongoCall(() =>
      this.snapshots.find({ save: meta.save, chunk: { $gte: 0 } }).toArray(),
    )) as SnapshotChunk[];
    if (chunks.length !== meta.chunks) return undefined;
    chunks.sort((a, b) => a.chunk - b.chunk);
    const byUid = new Map<string, Policy>();
    for (const chunk of chunks) {
      // Stored JSON is in the Portcullis form: the deep scan for vakt's tags runs only for a chunk holding one.
      const detectVakt = chunk.docs.includes('py/');
      for (const json of JSON.parse(chunk.docs) as unknown[]) {
        const policy = policyFromJSON(json, { detectVakt });
        byUid.set(policy.uid, policy);
      }
    }
    if (byUid.size !== meta.count) return undefined;

    // A policy changed once in the window is as its log entry says (the entry carries the JSON written).
    // One changed more than once may have had its writes logged in another order than made, and one
    // logged by an earlier version has no JSON: those are re-read, all in one query (on FerretDB v1 even a
    // lookup by `_id` scans the collection, as long as reading every policy without the snapshot).
    // What came before a `reset` (below the snapshot's revision: newer ones refused it above) is in the
    // snapshot, which was read after it.
    const entries = new Map<string, LoggedChange[]>();
    for (const change of log.slice(log.findLastIndex((entry) => entry.kind === 'reset') + 1)) {
      entries.set(change.uid, [...(entries.get(change.uid) ?? []), change]);
    }
    if (entries.size === 0) return [...byUid.values()];
    const reread: string[] = [];
    for (const [uid, changes] of entries) {
      byUid.delete(uid);
      const [only] = changes;
      if (changes.length > 1 || (only!.kind !== 'delete' && only!.doc === undefined)) reread.push(uid);
      else if (only!.doc !== undefined) {
        const policy = policyFromJSON(JSON.parse(only!.doc) as unknown, { detectVakt: only!.doc.includes('py/') });
        byUid.set(uid, policy);
      }
    }
    for (const policy of reread.length > 0 ? await read(reread) : []) byUid.set(policy.uid, policy);
    const policies = [...byUid.values()];
    return policies.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  }

  /**
   * Stores `docs` (every policy's JSON in uid order, read after `revision` was the newest change) as the
   * snapshot, unless the change log no longer has that revision. Each save writes its own chunks (two
   * processes may save different reads of one revision), then points the meta document at them, then
   * removes older revisions' chunks; a reader that finds a set incomplete reads the policies instead.
   */
  async save(revision: number, docs: readonly string[]): Promise<void> {
    if (revision === 0) return;
    const tagged = await mongoCall(() => this.changes.findOne({ _id: revision }));
    if (!tagged) return;
    const save = randomUUID();
    const chunks: SnapshotChunk[] = [];
    let part: string[] = [];
    let chars = 0;
    const flush = () => {
      const chunk = chunks.length;
      chunks.push({ _id: `${save}:${chunk}`, save, revision, chunk, docs: `[${part.join(',')}]` });
      part = [];
      chars = 0;
    };
    for (const doc of docs) {
      if (chars + doc.length > this.chunkChars && part.length > 0) flush();
      part.push(doc);
      chars += doc.length + 1;
    }
    if (part.length > 0 || chunks.length === 0) flush();
    for (const chunk of chunks) await mongoCall(() => this.snapshots.insertOne(chunk));
    const meta: SnapshotMeta = {
      _id: 'meta',
      revision,
      at: tagged.at,
      save,
      chunks: chunks.length,
      count: docs.length,
    };
    await mongoCall(() => this.snapshots.replaceOne({ _id: 'meta' }, meta, { upsert: true }));
    await mongoCall(() => this.snapshots.deleteMany({ revision: { $lt: revision }, chunk: { $gte: 0 } }));
  }
}

// Reads our local server's state dir (the layout of `wrangler dev --persist-to`) from outside: each StreamObject's SQLite
// file (read-only; workerd keeps them in WAL mode, so a reader never blocks it) and the local R2 bucket's
// blobs. Used for the storage cost figures (SQLite rows and R2 puts per MiB appended) and to confirm that a
// stream's history was really sealed into R2 before a catch-up read of it is measured.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

let sqlite;
async function loadSqlite() {
  // node:sqlite prints an ExperimentalWarning on load; only load it when a figure needs it.
  if (!sqlite) {
    const original = process.emitWarning;
    process.emitWarning = (w, ...rest) => (String(w).includes("SQLite") ? undefined : original.call(process, w, ...rest));
    try { sqlite = await import("node:sqlite"); } finally { process.emitWarning = original; }
  }
  return sqlite;
}

export class PersistInspector {
  constructor(stateDir) {
    this.stateDir = stateDir;
    this.doDir = join(stateDir, "v3/do/edgestream-StreamObject");
    this.r2Dir = join(stateDir, "v3/r2");
    /** `${basin}/${stream}` → sqlite file; a file's stream never changes, so this only grows. */
    this.files = new Map();
    this.seen = new Set();
  }

  async #open(file) {
    const { DatabaseSync } = await loadSqlite();
    return new DatabaseSync(file, { readOnly: true, timeout: 2_000 });
  }

  async #scan() {
    if (!existsSync(this.doDir)) return;
    for (const name of readdirSync(this.doDir)) {
      if (!name.endsWith(".sqlite") || name === "metadata.sqlite" || this.seen.has(name)) continue;
      const file = join(this.doDir, name);
      let db;
      try {
        db = await this.#open(file);
        const meta = db.prepare("SELECT basin, stream FROM stream_meta LIMIT 1").get();
        if (meta) {
          this.files.set(`${meta.basin}/${meta.stream}`, file);
          this.seen.add(name);
        }
      } catch {
        // Not initialised yet (no stream_meta): look again next time.
      } finally {
        db?.close();
      }
    }
  }

  /**
   * What the stream's object stores: tail rows (record_batches) and sealed segments (each one R2 put; its
   * `blocks` are the rows it replaced). undefined if the stream's file is not found.
   */
  async stream(basin, stream) {
    const key = `${basin}/${stream}`;
    if (!this.files.has(key)) await this.#scan();
    const file = this.files.get(key);
    if (!file) return undefined;
    const db = await this.#open(file);
    try {
      const meta = db.prepare("SELECT next_seq_num FROM stream_meta LIMIT 1").get();
      const tail = db.prepare("SELECT count(*) AS rows, coalesce(sum(length(records)), 0) AS bytes, min(start_seq_num) AS first FROM record_batches").get();
      let sealedRows = 0;
      let sealedBytes = 0;
      let sealedEnd = 0;
      const segments = db.prepare("SELECT end_seq_num, size_bytes, blocks FROM segments").all();
      for (const s of segments) {
        sealedRows += JSON.parse(s.blocks).length;
        sealedBytes += s.size_bytes;
        sealedEnd = Math.max(sealedEnd, s.end_seq_num);
      }
      return {
        nextSeqNum: meta?.next_seq_num ?? 0,
        tailRows: tail.rows,
        tailBytes: tail.bytes,
        tailFirstSeqNum: tail.first,
        segments: segments.length,
        sealedRows,
        sealedBytes,
        sealedEndSeqNum: sealedEnd,
        /** Record rows ever written for this stream: those still in the tail plus those sealing folded. */
        recordRows: tail.rows + sealedRows,
      };
    } finally {
      db.close();
    }
  }

  /** Objects in the local R2 buckets (blob files). */
  r2Objects() {
    if (!existsSync(this.r2Dir)) return 0;
    let n = 0;
    for (const bucket of readdirSync(this.r2Dir)) {
      const blobs = join(this.r2Dir, bucket, "blobs");
      if (existsSync(blobs)) n += readdirSync(blobs).length;
    }
    return n;
  }
}

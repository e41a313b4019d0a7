/**
 * Where sealed segments live: R2 in production and under `wrangler dev`, an in-memory double in tests that
 * inject faults. Every seal attempt writes a key of its own, so a put is never an overwrite (R2 allows one
 * write per second per key), and no key can name two different objects:
 *
 *   segments/<object id>/<start seq, 20 digits>-<end seq, 20 digits>-<nonce, 16 hex digits>
 *
 * The nonce matters. The object id is the same for every incarnation of a stream name (idFromName), and the
 * rows a retried seal picks can differ from the first attempt's; a key made of the seq range alone could then
 * find an earlier incarnation's or attempt's object already there, which a create-only put would take for its
 * own, and the index would point at other bytes. An attempt whose commit is lost leaves an object no index row
 * references: the sweep deletes it.
 */

export interface SegmentStore {
  /** Create-only write (keys are never reused, so an existing key is not expected; it is left as it is). */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Bytes [offset, offset + length) of a segment. Throws if the segment is missing or the store fails. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** Every key under a prefix, with its upload time (ms), for sweeps. */
  list(prefix: string): Promise<{ key: string; uploadedMs: number }[]>;
  delete(keys: readonly string[]): Promise<void>;
}

const pad = (n: number) => String(n).padStart(20, "0");

export const segmentPrefix = (incarnation: string) => `segments/${incarnation}/`;

/** A fresh key under `prefix` (a segmentPrefix) for one seal attempt of [startSeqNum, endSeqNum). */
export const segmentKey = (prefix: string, startSeqNum: number, endSeqNum: number) =>
  `${prefix}${pad(startSeqNum)}-${pad(endSeqNum)}-${nonce()}`;

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** R2 deletes at most 1000 keys per call and lists at most 1000 per page. */
const R2_BATCH_MAX = 1000;

export class R2SegmentStore implements SegmentStore {
  constructor(private readonly bucket: R2Bucket) {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    // Create-only: never overwrite. Keys are unique per attempt (segmentKey), so finding one taken means
    // these bytes were not written: fail the seal rather than index someone else's object.
    const written = await this.bucket.put(key, bytes, { onlyIf: { etagDoesNotMatch: "*" } });
    if (written === null) throw new Error(`segment ${key} already exists`);
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const object = await this.bucket.get(key, { range: { offset, length } });
    if (!object) throw new Error(`segment ${key} is missing`);
    return new Uint8Array(await object.arrayBuffer());
  }

  async list(prefix: string): Promise<{ key: string; uploadedMs: number }[]> {
    const keys: { key: string; uploadedMs: number }[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix, limit: R2_BATCH_MAX, ...(cursor ? { cursor } : {}) });
      for (const object of page.objects) keys.push({ key: object.key, uploadedMs: object.uploaded.getTime() });
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return keys;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += R2_BATCH_MAX) await this.bucket.delete(keys.slice(i, i + R2_BATCH_MAX));
  }
}

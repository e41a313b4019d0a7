/**
 * Where sealed segments live: R2 in production and under `wrangler dev`, an in-memory double in tests that
 * inject faults. Keys are immutable and unique per stream incarnation, so a put is never an overwrite
 * (R2 allows one write per second per key) and a recreated stream never sees its predecessor's segments:
 *
 *   segments/<incarnation id>/<start seq, 20 digits>-<end seq, 20 digits>
 */

export interface SegmentStore {
  /** Create-only write. Writing the same key again is a no-op (a retried seal writes the same bytes). */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Bytes [offset, offset + length) of a segment. Throws if the segment is missing or the store fails. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** Every key under a prefix, with its upload time (ms), for sweeps. */
  list(prefix: string): Promise<{ key: string; uploadedMs: number }[]>;
  delete(keys: readonly string[]): Promise<void>;
}

const pad = (n: number) => String(n).padStart(20, "0");

export const segmentPrefix = (incarnation: string) => `segments/${incarnation}/`;

export const segmentKey = (incarnation: string, startSeqNum: number, endSeqNum: number) =>
  `${segmentPrefix(incarnation)}${pad(startSeqNum)}-${pad(endSeqNum)}`;

/** R2 deletes at most 1000 keys per call and lists at most 1000 per page. */
const R2_BATCH_MAX = 1000;

export class R2SegmentStore implements SegmentStore {
  constructor(private readonly bucket: R2Bucket) {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    // Create-only: a put that finds the key already written returns null, which is success for us.
    await this.bucket.put(key, bytes, { onlyIf: { etagDoesNotMatch: "*" } });
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

/**
 * CRC-32 (IEEE 802.3, as zlib and PNG): detects corruption of stored bytes, not tampering.
 *
 * Slice-by-16 over 32-bit word reads: sixteen 256-entry tables fold 16 input bytes per step with independent
 * lookups, where a bytewise loop makes 16 dependent ones. In V8 that is ~0.55 ms/MiB against ~3–6 ms/MiB
 * bytewise, and every sealed byte is checksummed once when sealed and once per read back from R2.
 * Table k (entries [256k, 256k + 256)) maps a byte to its CRC contribution when k zero bytes follow it.
 */

const SLICES = 16;

const TABLE = (() => {
  const table = new Uint32Array(SLICES * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let k = 1; k < SLICES; k++) {
    for (let n = 0; n < 256; n++) {
      const previous = table[(k - 1) * 256 + n]!;
      table[k * 256 + n] = table[previous & 0xff]! ^ (previous >>> 8);
    }
  }
  return table;
})();

/** Word reads through an Int32Array are native-endian; the folding below assumes little-endian words. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The CRC of `bytes`; pass the CRC of what precedes them as `previous` to continue over several pieces. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const t = TABLE;
  let crc = ~previous;
  let i = 0;
  // Bytewise up to a 4-byte boundary of the buffer, so the middle can be read as aligned words.
  const head = LITTLE_ENDIAN ? Math.min(bytes.length, (4 - (bytes.byteOffset & 3)) & 3) : bytes.length;
  for (; i < head; i++) crc = t[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  const words = ((bytes.length - i) >>> 4) << 2;
  if (words > 0) {
    const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let j = 0; j < words; j += 4) {
      const a = crc ^ w[j]!;
      const b = w[j + 1]!;
      const c = w[j + 2]!;
      const d = w[j + 3]!;
      crc = t[3840 + (a & 0xff)]! ^ t[3584 + ((a >>> 8) & 0xff)]! ^ t[3328 + ((a >>> 16) & 0xff)]! ^ t[3072 + (a >>> 24)]! ^
        t[2816 + (b & 0xff)]! ^ t[2560 + ((b >>> 8) & 0xff)]! ^ t[2304 + ((b >>> 16) & 0xff)]! ^ t[2048 + (b >>> 24)]! ^
        t[1792 + (c & 0xff)]! ^ t[1536 + ((c >>> 8) & 0xff)]! ^ t[1280 + ((c >>> 16) & 0xff)]! ^ t[1024 + (c >>> 24)]! ^
        t[768 + (d & 0xff)]! ^ t[512 + ((d >>> 8) & 0xff)]! ^ t[256 + ((d >>> 16) & 0xff)]! ^ t[d >>> 24]!;
    }
    i += words * 4;
  }
  for (; i < bytes.length; i++) crc = t[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

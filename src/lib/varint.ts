/**
 * Unsigned LEB128 varints for integers up to 2^53 − 1. Arithmetic instead of bit operations, which would
 * truncate to 32 bits.
 */

export function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    length++;
  }
  return length;
}

/** Writes at `offset`, returns the offset after the varint. */
export function writeVarint(out: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    out[offset++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[offset++] = value;
  return offset;
}

/** Reads at `offset`; throws on truncation or overflow, which for our own formats means corruption. */
export function readVarint(bytes: Uint8Array, offset: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = offset; i < bytes.length; i++) {
    const byte = bytes[i]!;
    value += (byte & 0x7f) * scale;
    if (value > Number.MAX_SAFE_INTEGER) throw new RangeError("varint exceeds 2^53");
    if (byte < 0x80) return [value, i + 1];
    scale *= 0x80;
  }
  throw new RangeError("truncated varint");
}

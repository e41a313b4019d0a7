/**
 * CRC-32 (IEEE 802.3, as zlib and PNG): detects corruption of stored bytes, not tampering.
 *
 * node:zlib's, which is native in workerd (nodejs_compat) as in Node: every sealed byte is checksummed when
 * sealed and again on each read back from R2, and a table-driven loop in JavaScript cost ~9 ms/MiB inside
 * workerd, the largest single item of a sealing stream's CPU.
 */
import { crc32 as zlibCrc32 } from "node:zlib";

/** The CRC of `bytes`; pass the CRC of what precedes them as `previous` to continue over several pieces. */
export const crc32 = (bytes: Uint8Array, previous = 0): number => zlibCrc32(bytes, previous);

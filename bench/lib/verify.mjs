// Post-run checks of an append workload: acks tile the stream, the tail agrees, and what reads back is what
// was sent, in order.
import { checkAcks } from "./stats.mjs";

/**
 * acks: [{ start, end, tail, count, ... }]; expectBody(ack, j) → the body sent as record j of that batch.
 * readBack: "all" or a number k (first k and last k records). Returns a list of problems (empty = valid).
 */
export async function verifyAppends({ client, basin, stream, acks, expectBody, readBack = 1000 }) {
  const { problems, next: total } = checkAcks(acks, 0);
  if (problems.length > 0) return problems;
  const tail = await client.tail(basin, stream);
  if (tail.seq_num !== total) problems.push(`check-tail says ${tail.seq_num} records, acks cover ${total}`);
  const sorted = [...acks].sort((a, b) => a.start - b.start);
  const ackFor = (seq) => {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].end <= seq) lo = mid + 1;
      else if (sorted[mid].start > seq) hi = mid - 1;
      else return sorted[mid];
    }
    return undefined;
  };
  const ranges = readBack === "all" || 2 * readBack >= total
    ? [[0, total]]
    : [[0, readBack], [total - readBack, total]];
  let checked = 0;
  for (const [from, to] of ranges) {
    const records = await client.readRange(basin, stream, from, to);
    if (records.length !== to - from) problems.push(`read back ${records.length} records of [${from},${to})`);
    let expectSeq = from;
    for (const r of records) {
      if (r.seq_num !== expectSeq) {
        problems.push(`read back seq ${r.seq_num} where ${expectSeq} was expected`);
        break;
      }
      expectSeq += 1;
      const ack = ackFor(r.seq_num);
      const want = ack && expectBody(ack, r.seq_num - ack.start);
      if ((r.body ?? "") !== want) {
        problems.push(`seq ${r.seq_num}: body differs from what was sent (got ${JSON.stringify((r.body ?? "").slice(0, 40))}…, want ${JSON.stringify(String(want).slice(0, 40))}…)`);
        if (problems.length > 5) break;
      }
      checked += 1;
    }
  }
  if (problems.length === 0 && checked === 0 && total > 0) problems.push("nothing was read back");
  return problems;
}

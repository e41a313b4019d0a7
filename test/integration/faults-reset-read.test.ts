// An object reset under a read session's catch-up read (a deploy, an eviction) fails that RPC with an error the
// platform marks `retryable` (DESIGN.md §1). A read has no side effects, so the session reads again after a
// pause and goes on, every record once, in order; any other failure still ends the session.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ReadOutput } from "../../src/domain/types";
import { readSession } from "../../src/http/read-session";
import { appendOk, createBasin, createStream, env, uniqueBasin, uniqueStream } from "./helpers";

const basin = uniqueBasin("reset-read");

beforeAll(async () => {
  await createBasin(basin);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Fails the session's next `readFrom` calls with `failure()`, `times` times, then lets them through. */
function failReadsFrom(times: number, failure: () => Error): { readonly calls: number } {
  const namespace = env.STREAMS;
  const get = namespace.get.bind(namespace);
  const seen = { calls: 0 };
  vi.spyOn(namespace, "get").mockImplementation((id, options) => {
    const stub = get(id, options);
    return new Proxy(stub, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== "readFrom" || typeof value !== "function") return value;
        return (...args: unknown[]) => {
          seen.calls += 1;
          if (seen.calls <= times) return Promise.reject(failure());
          // Reflect.apply, not value.apply: on an RPC stub `.apply` would name a remote property.
          return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
        };
      },
    });
  });
  return seen;
}

const reset = () => Object.assign(new Error("Durable Object reset because its code was updated."), { retryable: true });

/** A session of three records that has to read them: its first read ended at a full batch, at seq 0. */
async function sessionOverThreeRecords(): Promise<AsyncGenerator<ReadOutput>> {
  const stream = uniqueStream();
  await createStream(basin, stream);
  await appendOk(basin, stream, ["a", "b", "c"]);
  const first = { records: [], tail: { seqNum: 3, timestamp: 0 }, nextSeqNum: 0, end: "batch_full" as const };
  const request = { start: { kind: "seq_num" as const, seqNum: 0 }, limits: { count: 3 }, clamp: false };
  return readSession({ env, basin, stream, principal: { kind: "root" } }, first, request, new AbortController().signal);
}

async function seqNumsOf(session: AsyncGenerator<ReadOutput>): Promise<number[]> {
  const seen: number[] = [];
  for await (const output of session) if (output.kind === "batch") seen.push(...output.batch.records.map((r) => r.seqNum));
  return seen;
}

describe("faults: an object reset under a catch-up read", () => {
  it("is read again: the session delivers every record once, in order", async () => {
    const session = await sessionOverThreeRecords();
    const reads = failReadsFrom(2, reset);
    expect(await seqNumsOf(session)).toEqual([0, 1, 2]);
    expect(reads.calls).toBe(3);
  });

  it("that outlasts the attempts, or any other failure, ends the session with the error", async () => {
    const lasting = await sessionOverThreeRecords();
    failReadsFrom(Infinity, reset);
    await expect(seqNumsOf(lasting)).rejects.toThrow(/reset/);
    vi.restoreAllMocks();
    const broken = await sessionOverThreeRecords();
    const reads = failReadsFrom(1, () => new Error("not retryable"));
    await expect(seqNumsOf(broken)).rejects.toThrow("not retryable");
    expect(reads.calls).toBe(1);
  });
});

#!/usr/bin/env node
// Child process entry of the Durable Streams reference server (`@durable-streams/server`, which ships a class,
// no CLI): `node ref-server-main.mjs --port <p> [--data-dir <dir>] [--long-poll-ms <ms>]`. In-memory without
// --data-dir, file-backed (log files + LMDB, fdatasync per append) with it. Prints `ready <url>` once listening
// and stops cleanly on SIGTERM/SIGINT. Started by ref-server.mjs, in its own process group.
import { DurableStreamTestServer } from "@durable-streams/server";
import { exitOnSignal } from "./exit-on-signal.mjs";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const port = Number(opt("--port"));
if (!Number.isInteger(port) || port <= 0) {
  console.error("ref-server-main: --port <n> is required");
  process.exit(2);
}
const server = new DurableStreamTestServer({
  host: "127.0.0.1",
  port,
  dataDir: opt("--data-dir"),
  longPollTimeout: Number(opt("--long-poll-ms") ?? 20_000),
});
const url = await server.start();
console.log(`ready ${url}`);

exitOnSignal(() => server.stop());

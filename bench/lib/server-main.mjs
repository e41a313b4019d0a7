#!/usr/bin/env node
// Child process entry of our server for the bench: `node server-main.mjs '<settings JSON>'` runs a bundle with
// scripts/local-server.mjs (runWorker's settings) until SIGTERM/SIGINT. Started by server.mjs in its own process
// group, so the bench can account for its CPU and memory and kill it with its workerd.
import { runWorker } from "../../scripts/local-server.mjs";
import { exitOnSignal } from "./exit-on-signal.mjs";

const worker = await runWorker(JSON.parse(process.argv[2]));
console.log(`ready ${worker.url}`);

exitOnSignal(() => worker.close());

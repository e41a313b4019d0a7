// Shared by the bench's server child processes (server-main.mjs, ref-server-main.mjs).

/** On SIGTERM/SIGINT: `close()` once, then exit 0; a close that hangs is given 3 s. */
export function exitOnSignal(close) {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => process.exit(0), 3_000);
    try { await close(); } catch { /* exiting anyway */ }
    clearTimeout(timer);
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

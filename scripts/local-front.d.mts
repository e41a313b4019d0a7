// Types of local-front.mjs, for the tests that start it.
export interface Front {
  /** The bound port (the requested one, or the one the OS chose for port 0). */
  port: number;
  /** Stops accepting and ends every open connection. */
  close(): Promise<void>;
}

export function startFront(options: {
  host: string;
  port: number;
  upstream: { host: string; port: number };
  log?: (line: string) => void;
}): Promise<Front>;

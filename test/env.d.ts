// Values handed from test/e2e/global-setup.ts to e2e test files through vitest's provide/inject.
declare module "vitest" {
  export interface ProvidedContext {
    /** Origin of the `wrangler dev` server under test, e.g. `http://127.0.0.1:41234` (no trailing slash). */
    baseUrl: string;
  }
}

export {};

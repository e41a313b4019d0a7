// The root token every test server runs with: the workers project binds it (vitest.config.ts), the e2e
// server gets it as a var (wrangler.ts). Tests that check refusals simply leave it out.
export const TEST_ROOT_TOKEN = "test-root-token-0123456789";

export const rootAuthorization = { authorization: `Bearer ${TEST_ROOT_TOKEN}` } as const;

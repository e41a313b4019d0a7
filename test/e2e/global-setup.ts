import type { TestProject } from "vitest/node";
import { startDevServer } from "../support/local-server";

// One server for the whole e2e run; tests isolate themselves with unique basin names.
export default async function setup(project: TestProject) {
  const external = process.env.EDGESTREAM_E2E_URL;
  if (external) {
    project.provide("baseUrl", external.replace(/\/+$/, ""));
    return;
  }
  const server = await startDevServer();
  project.provide("baseUrl", server.baseUrl);
  return async () => {
    await server.stop();
  };
}

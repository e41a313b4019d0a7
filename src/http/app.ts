/**
 * The Worker's HTTP surface: `/health` (open), the S2 v1 API under `/v1` and the Durable Streams protocol
 * under `/v1/stream/` (every route authenticated, except Durable Streams' CORS preflights), and Prometheus
 * `/metrics` (authenticated; op account-metrics). Every request is counted and timed for `/metrics`.
 * Every handler failure ends here:
 * expected ones (Rejection) render through the S2 error table, anything else is a bug or an infrastructure
 * failure, logged and answered `500 other` (which does not promise the call had no effect).
 */
import { Hono } from "hono";
import { streamError } from "../domain/errors";
import { authenticate } from "./auth/authenticate";
import type { AppEnv } from "./context";
import { compressResponses } from "./compression";
import { accessTokenRoutes } from "./s2/access-tokens";
import { appendWebSocketRoutes } from "./s2/append-websocket";
import { preflight } from "./ds/responses";
import { dsRoutes } from "./ds/routes";
import { wakeTokenRoutes } from "./ds/subscriptions";
import { basinRoutes } from "./s2/basins";
import { readWebSocketRoutes } from "./s2/read-websocket";
import { recordRoutes } from "./s2/records";
import { s2ErrorResponse } from "./s2/request";
import { Rejection } from "./rejection";
import { streamRoutes } from "./s2/streams";
import { observeRequests } from "./metrics/observe";
import { prometheusMetrics } from "./metrics/prometheus";
import { metricsRoutes } from "./metrics/s2-metrics";

const health = () => new Response("OK", { headers: { "content-type": "text/plain" } });

export function createApp() {
  const app = new Hono<AppEnv>();
  app.use("*", observeRequests);
  app.get("/health", health);
  app.get("/ping", health);
  // Browsers send CORS preflights without credentials, so they are answered before authentication.
  app.options("/v1/stream/*", preflight);
  // Subscription callbacks carry their wake's own token, and webhook receivers fetch the JWKS anonymously.
  app.route("/v1/stream/__ds", wakeTokenRoutes);
  // Prometheus text (S2-API §1.3), not the usage API `/v1/metrics`.
  app.use("/metrics", authenticate(s2ErrorResponse));
  app.get("/metrics", prometheusMetrics);
  app.all("/metrics", () => new Response(null, { status: 405 }));
  app.use("/v1/*", compressResponses); // unary JSON/protobuf bodies per Accept-Encoding (S2-API §1.6)
  app.use("/v1/*", authenticate(s2ErrorResponse));
  app.route("/v1/access-tokens", accessTokenRoutes);
  app.route("/v1/basins", basinRoutes);
  app.route("/v1/streams", streamRoutes);
  app.route("/v1/streams", appendWebSocketRoutes); // `…/records/append`: append sessions over a WebSocket
  app.route("/v1/streams", readWebSocketRoutes); // before recordRoutes: takes only `Upgrade: websocket` reads
  app.route("/v1/streams", recordRoutes);
  app.route("/v1/stream", dsRoutes);
  app.route("/v1/metrics", metricsRoutes);
  for (const path of ["/v1/access-tokens", "/v1/access-tokens/:id", "/v1/basins", "/v1/basins/:basin", "/v1/streams", "/v1/streams/:stream", "/v1/streams/:stream/records", "/v1/streams/:stream/records/tail",
    "/v1/metrics", "/v1/metrics/:basin", "/v1/metrics/:basin/:stream"]) {
    // Known paths, other methods: 405 with an empty body, as s2-lite's router answers (S2-API §1.1).
    app.all(path, () => new Response(null, { status: 405 }));
  }
  for (const path of ["/v1/locations", "/v1/locations/*"]) {
    // As s2-lite: the route exists, the feature does not yet (S2-API §6.4).
    app.all(path, () => s2ErrorResponse(streamError("not_implemented", "not implemented by this server")));
  }
  // Unknown paths: an empty 404, as s2-lite's router answers (S2-API §1.1), not Hono's text/plain default.
  app.notFound(() => new Response(null, { status: 404 }));
  app.onError((error) => {
    if (error instanceof Rejection) return s2ErrorResponse(error.error);
    console.error("unhandled error", error);
    return s2ErrorResponse(streamError("other", "internal error"));
  });
  return app;
}

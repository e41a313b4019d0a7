/**
 * JSON bodies of the Durable Streams subscription APIs (PROTOCOL.md §6–7): requests → domain values
 * (Results), domain values → the snake_case shapes clients read, and the `{ "error": { "code" } }` bodies
 * with their statuses. Offsets are rendered as everywhere in Durable Streams (offset.ts).
 */
import {
  checkWebhookUrl, isPending, LEASE_TTL_MS_DEFAULT, LEASE_TTL_MS_MAX, LEASE_TTL_MS_MIN, subscriptionError,
  type Link, type SubscriptionConfig, type SubscriptionError, type WakeStream,
} from "../../domain/subscription";
import { err, ok, type Result } from "../../lib/result";
import { offsetSeqNum, renderOffset } from "./offset";

const invalid = (message: string) => err(subscriptionError("INVALID_REQUEST", message));

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const isPath = (value: unknown): value is string => typeof value === "string" && value.length > 0 && value.length <= 512;

function optionalString(body: Json, field: string): Result<string | null, SubscriptionError> {
  const value = body[field];
  if (value === undefined || value === null) return ok(null);
  return typeof value === "string" && value.length > 0 ? ok(value) : invalid(`${field} must be a non-empty string`);
}

export function parseStreamPaths(value: unknown, field = "streams"): Result<string[], SubscriptionError> {
  if (!Array.isArray(value) || !value.every(isPath)) return invalid(`${field} must be an array of stream paths`);
  return ok([...new Set(value)].sort());
}

/** PUT `__ds/subscriptions/:id` (PROTOCOL.md §6.2). */
export function parseSubscriptionRequest(body: unknown, allowLocalhostWebhooks: boolean): Result<SubscriptionConfig, SubscriptionError> {
  if (!isObject(body)) return invalid("expected a JSON object");
  const type = body.type;
  if (type !== "webhook" && type !== "pull-wake") return invalid("type must be webhook or pull-wake");
  const pattern = optionalString(body, "pattern");
  if (!pattern.ok) return pattern;
  const streams = body.streams === undefined ? ok([]) : parseStreamPaths(body.streams);
  if (!streams.ok) return streams;
  if (pattern.value === null && streams.value.length === 0) return invalid("pattern or streams is required");
  const description = optionalString(body, "description");
  if (!description.ok) return description;
  const lease = body.lease_ttl_ms ?? LEASE_TTL_MS_DEFAULT;
  if (!Number.isInteger(lease) || (lease as number) < LEASE_TTL_MS_MIN || (lease as number) > LEASE_TTL_MS_MAX) {
    return invalid(`lease_ttl_ms must be an integer from ${LEASE_TTL_MS_MIN} to ${LEASE_TTL_MS_MAX}`);
  }
  let webhookUrl: string | null = null;
  let wakeStream: string | null = null;
  if (type === "webhook") {
    const url = isObject(body.webhook) ? body.webhook.url : undefined;
    if (typeof url !== "string") return invalid("webhook.url is required for webhook subscriptions");
    const checked = checkWebhookUrl(url, allowLocalhostWebhooks);
    if (!checked.ok) return checked;
    webhookUrl = checked.value;
  } else {
    if (!isPath(body.wake_stream)) return invalid("wake_stream is required for pull-wake subscriptions");
    wakeStream = body.wake_stream;
  }
  return ok({
    type, pattern: pattern.value, streams: streams.value, webhookUrl, wakeStream, leaseTtlMs: lease as number,
    description: description.value,
  });
}

export interface WakeReport {
  wakeId: string;
  generation: number;
  acks: { stream: string; seqNum: number }[];
  done: boolean;
}

/** The body of callback, ack and release (PROTOCOL.md §7.1, §7.2); release carries no acks. */
export function parseWakeReport(body: unknown): Result<WakeReport, SubscriptionError> {
  if (!isObject(body)) return invalid("expected a JSON object");
  const { wake_id: wakeId, generation } = body;
  if (typeof wakeId !== "string" || !Number.isSafeInteger(generation)) return invalid("wake_id and generation are required");
  const acks: WakeReport["acks"] = [];
  for (const ack of Array.isArray(body.acks) ? body.acks : []) {
    const seqNum = isObject(ack) && typeof ack.offset === "string" ? offsetSeqNum(ack.offset) : undefined;
    if (!isObject(ack) || !isPath(ack.stream) || seqNum === undefined) return invalid("acks must be {stream, offset} objects");
    acks.push({ stream: ack.stream, seqNum });
  }
  if (body.acks !== undefined && !Array.isArray(body.acks)) return invalid("acks must be an array");
  return ok({ wakeId, generation: generation as number, acks, done: body.done === true });
}

const linkType = (link: { explicit: boolean }) => (link.explicit ? "explicit" : "glob");

export function renderWakeStreams(streams: readonly WakeStream[]) {
  return streams.map((stream) => ({
    path: stream.path, link_type: linkType(stream), acked_offset: renderOffset(stream.ackedSeqNum),
    tail_offset: renderOffset(stream.tailSeqNum), has_pending: isPending(stream),
  }));
}

export interface SubscriptionView {
  id: string;
  config: SubscriptionConfig;
  createdAtMs: number;
  failing: boolean;
  links: Link[];
  /** `{origin}/v1/stream`: where the control APIs and JWKS of this server live. */
  streamRoot: string;
  /** The active webhook signing key. */
  kid: string | null;
}

export const jwksUrl = (streamRoot: string) => `${streamRoot}/__ds/jwks.json`;
export const callbackUrl = (streamRoot: string, id: string) => `${streamRoot}/__ds/subscriptions/${encodeURIComponent(id)}/callback`;

/** GET / PUT responses (PROTOCOL.md §6.3). Never includes a shared secret: webhooks are signed with Ed25519. */
export function renderSubscription(view: SubscriptionView) {
  const { config } = view;
  return {
    id: view.id,
    subscription_id: view.id,
    type: config.type,
    pattern: config.pattern,
    streams: view.links.map((link) => ({ path: link.path, link_type: linkType(link), acked_offset: renderOffset(link.ackedSeqNum) })),
    webhook: config.webhookUrl === null ? null : {
      url: config.webhookUrl,
      signing: { alg: "ed25519", kid: view.kid, jwks_url: jwksUrl(view.streamRoot) },
    },
    wake_stream: config.wakeStream,
    lease_ttl_ms: config.leaseTtlMs,
    created_at: new Date(view.createdAtMs).toISOString(),
    status: view.failing ? "failed" : "active",
    description: config.description,
  };
}

const STATUS: Record<SubscriptionError["code"], number> = {
  ALREADY_CLAIMED: 409,
  CONFLICT: 409,
  FENCED: 409,
  INVALID_REQUEST: 400,
  NOT_FOUND: 404,
  NOTHING_TO_CLAIM: 404,
  UNAUTHORIZED: 401,
  WEBHOOK_URL_REJECTED: 400,
};

export function renderSubscriptionError(error: SubscriptionError): { status: number; body: string } {
  const detail = error.code === "ALREADY_CLAIMED"
    ? { code: error.code, message: error.message, current_holder: error.currentHolder, generation: error.generation }
    : { code: error.code, message: error.message };
  return { status: STATUS[error.code], body: JSON.stringify({ error: detail }) };
}

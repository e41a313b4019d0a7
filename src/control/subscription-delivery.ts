/**
 * How a subscription's wakes leave the object (PROTOCOL.md §7): a signed webhook POST whose reply may finish
 * the wake at once (`{"done": true}`), or a wake event appended to the subscription's pull-wake stream. Also
 * the retry schedule of failing webhooks: exponential from 1 s to 60 s with 20% jitter (§7.1).
 */
import { utf8 } from "../lib/bytes";
import { callbackUrl, renderWakeStreams } from "../protocol/ds/subscription-json";
import type { SigningKey, SubscriptionRecord } from "../storage/subscription-store";
import { signatureHeader } from "./webhook-signing";

/** A receiver that does not answer within this long counts as a failed delivery. */
const WEBHOOK_TIMEOUT_MS = 10_000;
const RETRY_MS_MIN = 1_000;
const RETRY_MS_MAX = 60_000;
const RETRY_JITTER = 0.2;

export type Delivery = { kind: "delivered"; done: boolean } | { kind: "failed"; reason: string };

export async function deliverWebhook(record: SubscriptionRecord, key: SigningKey, nowMs: number): Promise<Delivery> {
  const wake = record.wake!;
  const body = JSON.stringify({
    subscription_id: record.id,
    wake_id: wake.id,
    generation: record.generation,
    streams: renderWakeStreams(wake.streams),
    callback_url: callbackUrl(record.streamRoot, record.id),
    callback_token: wake.token,
  });
  try {
    const response = await fetch(record.config.webhookUrl!, {
      method: "POST",
      headers: { "content-type": "application/json", "webhook-signature": await signatureHeader(key, body, nowMs) },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    const reply = await response.text();
    if (!response.ok) return { kind: "failed", reason: `status ${response.status}` };
    return { kind: "delivered", done: finishedBy(reply) };
  } catch (error) {
    return { kind: "failed", reason: (error as Error).message };
  }
}

function finishedBy(reply: string): boolean {
  try {
    return (JSON.parse(reply) as { done?: unknown })?.done === true;
  } catch {
    return false;
  }
}

export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MS_MAX, RETRY_MS_MIN * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (1 + RETRY_JITTER * (2 * random() - 1)));
}

/** The wake event a pull-wake subscription appends to its wake stream (PROTOCOL.md §7.2). */
export function wakeEvent(record: SubscriptionRecord, path: string, nowMs: number): Uint8Array {
  return utf8(JSON.stringify({ type: "wake", subscription_id: record.id, stream: path, generation: record.generation, ts: nowMs }));
}

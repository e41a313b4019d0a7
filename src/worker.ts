/** Worker entry: the HTTP app, and the Durable Object classes wrangler.toml binds. */
import { createApp } from "./http/app";

export { AccountObject } from "./control/account-object";
export { BasinObject } from "./control/basin-object";
export { SubscriptionObject } from "./control/subscription-object";
export { StreamObject } from "./stream/stream-object";

export default createApp();

/** The Hono environment of every route: the Worker's bindings and who is calling. */
import type { Context } from "hono";
import type { Principal } from "../domain/access";
import type { Env } from "../env";

export type AppEnv = { Bindings: Env; Variables: { principal: Principal } };
export type AppContext = Context<AppEnv>;

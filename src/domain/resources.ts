/** Basins and streams as the control plane lists them (S2-API §4, §5). */
import type { ResourceSet } from "./access";

export interface BasinInfo {
  name: string;
  /** The location the basin was created in, if one was asked for; it decides where its streams live. */
  location: string | null;
  createdAtMs: number;
  /** Set while the basin is being deleted. */
  deletedAtMs: number | null;
}

export interface StreamInfo {
  name: string;
  createdAtMs: number;
  /** Set while the stream is being deleted. */
  deletedAtMs: number | null;
}

export interface ListQuery {
  prefix: string;
  startAfter: string;
  /** 1..LIST_LIMIT_MAX, already clamped. */
  limit: number;
  /**
   * Only names in this set: a caller's token scope. Applied by the registry before the page is cut, so a
   * page is full and `has_more` is exact whatever the scope hides.
   */
  within?: ResourceSet;
}

export interface ListPage<T> {
  items: T[];
  hasMore: boolean;
}

/** `created` (201), `updated` or `noop` (200): the s2-provision-result of creates and ensures. */
export type ProvisionResult = "created" | "updated" | "noop";

// Unique names so tests can share one server (and reruns can share one data dir) without colliding.
import { randomBytes } from "node:crypto";

const BASIN_NAME = /^[a-z0-9][a-z0-9-]{6,46}[a-z0-9]$/;

/** A random lowercase alphanumeric string; 8 chars give ~41 bits, plenty for one test run. */
export function randomSuffix(length = 8): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/**
 * A valid, unique basin name: `<prefix>-<random>`, 8–48 chars of a-z0-9-, alphanumeric at both ends.
 * The prefix is sanitized (lowercased, other chars → `-`) and truncated so the result always fits.
 */
export function basinName(prefix = "e2e"): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 30)
    .replace(/-+$/g, "");
  const name = `${clean || "b"}-${randomSuffix(12)}`;
  if (!isValidBasinName(name)) throw new Error(`generated invalid basin name ${name}`);
  return name;
}

export function streamName(prefix = "s"): string {
  return `${prefix}-${randomSuffix(10)}`;
}

export function isValidBasinName(name: string): boolean {
  return BASIN_NAME.test(name);
}

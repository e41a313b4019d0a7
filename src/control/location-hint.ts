/**
 * Basin location → Durable Object location hint. S2 names locations after cloud regions (`aws:us-east-1`);
 * Cloudflare places an object near one of a few broad regions when it is first created. A basin's streams
 * are created with the hint of its location, so they live near the users the basin was made for. Locations
 * with no mapping get no hint (Cloudflare then places the object near its first caller).
 *
 *   region prefix                         hint
 *   us-west-*                             wnam   (western North America)
 *   us-east-*, us-central-*, ca-*         enam   (eastern North America)
 *   sa-*                                  sam    (South America)
 *   eu-west-*, eu-north-*, eu-south-*,
 *   eu-central-*                          weur   (western Europe)
 *   eu-east-*                             eeur   (eastern Europe)
 *   ap-southeast-2, ap-southeast-4        oc     (Oceania)
 *   ap-*                                  apac   (Asia-Pacific)
 *   me-*, il-*                            me     (Middle East)
 *   af-*                                  afr    (Africa)
 * A location may also name a hint directly: `cf:weur`.
 */

const HINTS: readonly DurableObjectLocationHint[] = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"];

const REGION_HINTS: readonly [prefix: string, hint: DurableObjectLocationHint][] = [
  ["us-west-", "wnam"], ["us-east-", "enam"], ["us-central-", "enam"], ["ca-", "enam"], ["sa-", "sam"],
  ["eu-east-", "eeur"], ["eu-", "weur"], ["ap-southeast-2", "oc"], ["ap-southeast-4", "oc"], ["ap-", "apac"],
  ["me-", "me"], ["il-", "me"], ["af-", "afr"],
];

export function locationHint(location: string | null): DurableObjectLocationHint | undefined {
  if (!location) return undefined;
  const [provider, region = ""] = location.split(":", 2);
  if (provider === "cf") return HINTS.find((hint) => hint === region);
  return REGION_HINTS.find(([prefix]) => region.startsWith(prefix))?.[1];
}

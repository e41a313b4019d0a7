/** The RFC 6750 challenge every `401 authn` carries, whichever protocol renders the error. */
import type { StreamError } from "../../domain/errors";

export const WWW_AUTHENTICATE = "www-authenticate";

export function challenge(error: StreamError): string {
  return error.code === "authn" && error.message.startsWith("missing")
    ? `Bearer realm="edgestream"`
    : `Bearer realm="edgestream", error="invalid_token"`;
}

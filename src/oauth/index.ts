/**
 * The gateway as its own OAuth 2.1 authorization server for MCP clients: what the composition root
 * builds (the authority over its store) and the pieces transports and the console mount.
 */
import type { Config } from "../config.js";
import type { AuditSink } from "../stores/audit-sink.js";
import { createAuthority, type Authority } from "./authority.js";
import { createClientDirectory } from "./clients.js";
import type { OAuthStore } from "./contract.js";
import { createMemoryOAuthStore } from "./memory-store.js";

export { withAccessTokens } from "./access-tokens.js";
export type { Authority } from "./authority.js";

/** Builds the authority of a gateway: the in-process store unless one is given. */
export function createOAuthAuthority(config: Config, options: { now: () => number; sink: AuditSink; store?: OAuthStore }): Authority {
  const store = options.store ?? createMemoryOAuthStore({ now: options.now });
  const clients = createClientDirectory({ store, allowLoopback: config.oauth.loopbackClientIds, now: options.now });
  return createAuthority({ config: config.oauth, store, clients, now: options.now, audit: (r) => options.sink.write(r) });
}

/**
 * The token store: picks the implementation the configuration calls for (the embedded file store
 * for `serve`/`stdio`, Redis in the distributed mode), and re-exports the contract and the memory
 * store for callers that only need those.
 */
import type { TokenStore } from "./token-store.js";

export type { TokenRecord, TokenStore } from "./token-store.js";
export { createMemoryTokenStore } from "./memory-token-store.js";

/** Opens the token store the configuration calls for: Redis when `redis.url` is set (CLI use: uncached), else the file in the data dir. */
export async function openTokenStore(options: { readonly dataDir: string; readonly redis?: { readonly url?: string; readonly keyPrefix: string } }): Promise<TokenStore> {
  if (options.redis?.url) {
    const { openRedisTokenStore } = await import("./redis/redis-stores.js");
    return openRedisTokenStore({ redis: options.redis });
  }
  const { createTokenFileStore } = await import("./token-file-store.js");
  return createTokenFileStore({ dir: options.dataDir });
}

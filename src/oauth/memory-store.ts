/**
 * The in-process OAuth store: maps, with expired codes, requests and tokens swept as new ones are
 * written. A process's grants end when it stops (clients sign in again).
 */
import type { AuthorizationRequest, CodeRecord, Grant, OAuthClient, OAuthStore, TokenRecord } from "./contract.js";

/** How long a person has to decide on the consent page. */
export const REQUEST_TTL_MS = 10 * 60_000;
/** The most registered clients kept; past it the oldest registration without a grant is dropped. */
export const MAX_CLIENTS = 10_000;

/** Builds the in-process store. */
export function createMemoryOAuthStore(options: { now?: () => number } = {}): OAuthStore {
  const now = options.now ?? Date.now;
  const clients = new Map<string, OAuthClient>();
  const requests = new Map<string, AuthorizationRequest>();
  const grants = new Map<string, Grant>();
  const codes = new Map<string, CodeRecord>();
  const access = new Map<string, TokenRecord>();
  const refresh = new Map<string, TokenRecord>();

  function sweep<T>(map: Map<string, T>, expired: (v: T, at: number) => boolean): void {
    const at = now();
    for (const [k, v] of map) if (expired(v, at)) map.delete(k);
  }
  const past = (t: { expiresAt: number }, at: number) => t.expiresAt <= at;

  return {
    async putClient(client) {
      if (clients.size >= MAX_CLIENTS) {
        // Registration is open to anyone: a flood of registrations must not grow memory forever.
        const granted = new Set([...grants.values()].map((g) => g.clientId));
        for (const id of clients.keys()) {
          if (!granted.has(id)) {
            clients.delete(id);
            break;
          }
        }
      }
      clients.set(client.clientId, client);
    },
    async getClient(id) {
      return clients.get(id);
    },
    async putRequest(request) {
      sweep(requests, (r, at) => r.createdAt + REQUEST_TTL_MS <= at);
      requests.set(request.id, request);
    },
    async getRequest(id) {
      const r = requests.get(id);
      return r && r.createdAt + REQUEST_TTL_MS > now() ? r : undefined;
    },
    async takeRequest(id) {
      const r = requests.get(id);
      requests.delete(id);
      return r && r.createdAt + REQUEST_TTL_MS > now() ? r : undefined;
    },
    async putGrant(grant) {
      grants.set(grant.id, grant);
    },
    async getGrant(id) {
      return grants.get(id);
    },
    async listGrants() {
      return [...grants.values()];
    },
    async revokeGrant(id, at, why) {
      const g = grants.get(id);
      if (!g || g.revokedAt) return g;
      const revoked: Grant = { ...g, revokedAt: at.toISOString(), revokedWhy: why };
      grants.set(id, revoked);
      return revoked;
    },
    async putCode(hash, code) {
      sweep(codes, past);
      codes.set(hash, code);
    },
    async spendCode(hash, at) {
      const c = codes.get(hash);
      if (c && c.spentAt === undefined) codes.set(hash, { ...c, spentAt: at });
      return c;
    },
    async putAccess(hash, token) {
      sweep(access, past);
      access.set(hash, token);
    },
    async getAccess(hash) {
      return access.get(hash);
    },
    async putRefresh(hash, token) {
      sweep(refresh, past);
      refresh.set(hash, token);
    },
    async spendRefresh(hash, at) {
      const t = refresh.get(hash);
      if (t && t.spentAt === undefined) refresh.set(hash, { ...t, spentAt: at });
      return t;
    },
  };
}

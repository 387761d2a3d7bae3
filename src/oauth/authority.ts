/**
 * The authorization server's decisions, apart from HTTP: an authorization request checked and
 * held for the person's consent, the consent turned into a grant and a one-time code, the code and
 * refresh tokens exchanged at /token (PKCE S256, rotation, reuse detection), grants listed and
 * revoked, and an access token resolved to the same Principal a `csk_` token resolves to.
 */
import { randomUUID } from "node:crypto";
import type { AuditRecord, Principal } from "../context.js";
import type { OAuthConfig } from "../config.js";
import type { AuthorizationRequest, Grant, GrantScope, OAuthClient, OAuthStore } from "./contract.js";
import { OAuthError } from "./errors.js";
import { CHALLENGE, ACCESS_PREFIX, CODE_PREFIX, REFRESH_PREFIX, hashSecret, mintId, mintSecret, pkceMatches } from "./secrets.js";
import { redirectUriMatches } from "./redirect.js";
import type { ClientDirectory } from "./clients.js";

/** How long an authorization code may wait for its exchange. */
export const CODE_TTL_MS = 5 * 60_000;

/** The person deciding on the consent page. */
export interface ConsentUser {
  readonly id: string;
  readonly name: string;
}

/** A checked /authorize request: held for consent, or refused before any redirect is safe. */
export type AuthorizeOutcome =
  | { readonly ok: true; readonly request: AuthorizationRequest; readonly client: OAuthClient }
  /** `redirect` is set when the error may go back to the client (RFC 6749 §4.1.2.1). */
  | { readonly ok: false; readonly error: OAuthError; readonly redirect?: string };

/** What /token answers (RFC 6749 §5.1). */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: "Bearer";
  readonly expires_in: number;
  readonly refresh_token: string;
  readonly scope: string;
}

/** Why an access token was refused (the 401's description). */
export type AccessRefusal = { reason: "unknown" | "expired" | "revoked"; message: string; grant?: Grant };

/** What the authority is built from. */
export interface AuthorityDeps {
  readonly config: OAuthConfig;
  readonly store: OAuthStore;
  readonly clients: ClientDirectory;
  readonly now: () => number;
  /** Writes one audit record (registration, grant, refresh, revocation). */
  readonly audit: (record: AuditRecord) => Promise<void>;
}

/** The authorization server's decisions. */
export interface Authority {
  readonly store: OAuthStore;
  readonly clients: ClientDirectory;
  authorize(params: Record<string, string | undefined>, resource: string): Promise<AuthorizeOutcome>;
  /** The person's decision on a held request: the redirect to send the browser to. */
  decide(requestId: string, user: ConsentUser, decision: { approve: false } | { approve: true; scope: GrantScope }, issuer: string): Promise<string>;
  token(params: Record<string, string | undefined>): Promise<TokenResponse>;
  /** An access token's principal, or why it is refused. */
  resolveAccess(token: string): Promise<{ ok: true; principal: Principal } | ({ ok: false } & AccessRefusal)>;
  /** Revokes a grant (its tokens stop on their next call). */
  revoke(grantId: string, by: string, why?: NonNullable<Grant["revokedWhy"]>): Promise<Grant | undefined>;
  /** Audits a registration. */
  registered(client: OAuthClient, source?: string): Promise<void>;
}

function withParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

/** The Principal of a grant: its id is the token id the chain, limits and audit see. */
function principalOf(grant: Grant, expiresAt: number): Principal {
  const until = Math.min(expiresAt, Date.parse(grant.scope.expiresAt));
  return { tokenId: grant.id, subject: `${grant.userName} via ${grant.clientName}`, modules: grant.scope.modules, readOnly: grant.scope.readOnly, tier: "default", expiresAt: new Date(until).toISOString() };
}

/** Builds the authority. */
export function createAuthority(deps: AuthorityDeps): Authority {
  const { store, clients, now, config } = deps;

  async function audit(action: string, subject: string, summary: string, args: Record<string, unknown>, outcome = "ok"): Promise<void> {
    await deps.audit({ ts: new Date(now()).toISOString(), requestId: randomUUID(), transport: "http", subject, tool: `oauth.${action}`, module: "oauth", type: "admin", outcome, summary, args, ...(typeof args.grantId === "string" ? { tokenId: args.grantId } : {}) });
  }

  async function issue(grant: Grant): Promise<TokenResponse> {
    const at = now();
    const grantEnds = Date.parse(grant.scope.expiresAt);
    const accessEnds = Math.min(at + config.accessTokenTtlMs, grantEnds);
    const access = mintSecret(ACCESS_PREFIX);
    const refresh = mintSecret(REFRESH_PREFIX);
    await store.putAccess(hashSecret(access), { grantId: grant.id, expiresAt: accessEnds });
    await store.putRefresh(hashSecret(refresh), { grantId: grant.id, expiresAt: Math.min(at + config.refreshTokenTtlMs, grantEnds) });
    const scope = grant.scope.modules === "all" ? "all" : grant.scope.modules.join(" ");
    return { access_token: access, token_type: "Bearer", expires_in: Math.max(1, Math.floor((accessEnds - at) / 1000)), refresh_token: refresh, scope: grant.scope.readOnly ? `${scope} read-only` : scope };
  }

  async function liveGrant(id: string, clientId: string): Promise<Grant> {
    const grant = await store.getGrant(id);
    if (!grant || grant.clientId !== clientId) throw new OAuthError("invalid_grant", "the grant behind this token is unknown or belongs to another client");
    if (grant.revokedAt) throw new OAuthError("invalid_grant", `the grant was revoked on ${grant.revokedAt}${grant.revokedWhy === "refresh_reuse" ? " (a refresh token was used twice)" : ""}: authorize again`);
    if (Date.parse(grant.scope.expiresAt) <= now()) throw new OAuthError("invalid_grant", `the grant expired on ${grant.scope.expiresAt}: authorize again`);
    return grant;
  }

  async function revoke(grantId: string, by: string, why: NonNullable<Grant["revokedWhy"]> = "revoked"): Promise<Grant | undefined> {
    const before = await store.getGrant(grantId);
    const grant = await store.revokeGrant(grantId, new Date(now()), why);
    if (grant && before && !before.revokedAt) {
      await audit("revoke", by, `${why === "refresh_reuse" ? "Refresh token reused: revoked" : "Revoked"} ${grant.userName}'s grant to ${grant.clientName}`, { grantId, clientId: grant.clientId, why });
    }
    return grant;
  }

  async function exchangeCode(p: Record<string, string | undefined>): Promise<TokenResponse> {
    for (const k of ["code", "redirect_uri", "client_id", "code_verifier"] as const) {
      if (!p[k]) throw new OAuthError("invalid_request", `${k} is required for grant_type=authorization_code`);
    }
    const record = await store.spendCode(hashSecret(p.code!), now());
    if (!record) throw new OAuthError("invalid_grant", "unknown or expired authorization code");
    if (record.spentAt !== undefined) {
      // RFC 6749 §4.1.2: a replayed code may mean it was stolen; everything issued from it stops.
      await revoke(record.grantId, `client:${record.clientId}`, "revoked");
      throw new OAuthError("invalid_grant", "authorization code already used; the tokens issued from it are revoked");
    }
    if (record.expiresAt <= now()) throw new OAuthError("invalid_grant", "authorization code expired: authorize again");
    if (record.clientId !== p.client_id) throw new OAuthError("invalid_grant", "authorization code was issued to another client");
    if (record.redirectUri !== p.redirect_uri) throw new OAuthError("invalid_grant", "redirect_uri differs from the one of the authorization request");
    if (!pkceMatches(p.code_verifier!, record.codeChallenge)) throw new OAuthError("invalid_grant", "code_verifier does not match the code_challenge (PKCE S256)");
    return issue(await liveGrant(record.grantId, record.clientId));
  }

  async function refresh(p: Record<string, string | undefined>): Promise<TokenResponse> {
    if (!p.refresh_token) throw new OAuthError("invalid_request", "refresh_token is required for grant_type=refresh_token");
    if (!p.client_id) throw new OAuthError("invalid_request", "client_id is required");
    const record = await store.spendRefresh(hashSecret(p.refresh_token), now());
    if (!record) throw new OAuthError("invalid_grant", "unknown refresh token");
    const grant = await store.getGrant(record.grantId);
    if (!grant || grant.clientId !== p.client_id) throw new OAuthError("invalid_grant", "refresh token was issued to another client");
    if (record.spentAt !== undefined) {
      await revoke(grant.id, `client:${grant.clientName}`, "refresh_reuse");
      throw new OAuthError("invalid_grant", "refresh token already used: the grant is revoked (a reused refresh token may have been stolen); authorize again");
    }
    if (record.expiresAt <= now()) throw new OAuthError("invalid_grant", "refresh token expired: authorize again");
    const live = await liveGrant(grant.id, p.client_id);
    const out = await issue(live);
    await audit("refresh", `${live.userName} via ${live.clientName}`, `Refreshed ${live.clientName}'s tokens`, { grantId: live.id, clientId: live.clientId });
    return out;
  }

  return {
    store,
    clients,
    async authorize(p, resource) {
      if (!p.client_id) return { ok: false, error: new OAuthError("invalid_request", "client_id is required") };
      let client: OAuthClient;
      try {
        client = await clients.resolve(p.client_id);
      } catch (err) {
        if (err instanceof OAuthError) return { ok: false, error: err };
        throw err;
      }
      if (!p.redirect_uri) return { ok: false, error: new OAuthError("invalid_request", "redirect_uri is required") };
      if (!redirectUriMatches(client.redirectUris, p.redirect_uri)) {
        return { ok: false, error: new OAuthError("invalid_request", `redirect_uri ${p.redirect_uri} is not one registered for ${client.clientName}`) };
      }
      // From here on the redirect URI is the client's own: errors go back to it.
      const back = (error: OAuthError): AuthorizeOutcome => ({ ok: false, error, redirect: withParams(p.redirect_uri!, { error: error.error, error_description: error.message, state: p.state }) });
      if (p.response_type !== "code") return back(new OAuthError("unsupported_response_type", "response_type must be code"));
      if (!p.code_challenge) return back(new OAuthError("invalid_request", "code_challenge is required (PKCE)"));
      if (p.code_challenge_method !== "S256") return back(new OAuthError("invalid_request", "code_challenge_method must be S256 (plain is not accepted)"));
      if (!CHALLENGE.test(p.code_challenge)) return back(new OAuthError("invalid_request", "code_challenge is not a base64url SHA-256"));
      if (p.resource !== undefined && p.resource !== resource) {
        return back(new OAuthError("invalid_target", `resource ${p.resource} is not served here; this gateway's resource is ${resource}`));
      }
      const request: AuthorizationRequest = { id: mintId("ar_"), clientId: client.clientId, redirectUri: p.redirect_uri, state: p.state, codeChallenge: p.code_challenge, resource, createdAt: now() };
      await store.putRequest(request);
      return { ok: true, request, client };
    },
    async decide(requestId, user, decision, issuer) {
      const request = await store.takeRequest(requestId);
      if (!request) throw new OAuthError("invalid_request", "this authorization request is unknown, already decided or expired (10 minutes): start again from the client");
      if (!decision.approve) {
        await audit("deny", user.name, `Denied a client access`, { clientId: request.clientId });
        return withParams(request.redirectUri, { error: "access_denied", error_description: "the person declined", state: request.state, iss: issuer });
      }
      const client = await clients.resolve(request.clientId);
      const grant: Grant = { id: mintId("gr_"), clientId: client.clientId, clientName: client.clientName, userId: user.id, userName: user.name, scope: decision.scope, audience: request.resource, createdAt: new Date(now()).toISOString() };
      await store.putGrant(grant);
      const code = mintSecret(CODE_PREFIX);
      await store.putCode(hashSecret(code), { grantId: grant.id, clientId: client.clientId, redirectUri: request.redirectUri, codeChallenge: request.codeChallenge, expiresAt: now() + CODE_TTL_MS });
      const modules = decision.scope.modules === "all" ? "all modules" : decision.scope.modules.join(", ");
      await audit("grant", user.name, `Granted ${client.clientName} ${modules}${decision.scope.readOnly ? ", read-only" : ""}, until ${decision.scope.expiresAt}`, { grantId: grant.id, clientId: client.clientId, modules: decision.scope.modules, readOnly: decision.scope.readOnly, expiresAt: decision.scope.expiresAt });
      return withParams(request.redirectUri, { code, state: request.state, iss: issuer });
    },
    async token(p) {
      if (p.grant_type === "authorization_code") return exchangeCode(p);
      if (p.grant_type === "refresh_token") return refresh(p);
      if (!p.grant_type) throw new OAuthError("invalid_request", "grant_type is required");
      throw new OAuthError("unsupported_grant_type", `grant_type ${p.grant_type} is not supported (authorization_code, refresh_token)`);
    },
    async resolveAccess(token) {
      const record = await store.getAccess(hashSecret(token));
      if (!record) return { ok: false, reason: "unknown", message: "Unknown access token" };
      const grant = await store.getGrant(record.grantId);
      if (!grant) return { ok: false, reason: "unknown", message: "Unknown access token" };
      if (grant.revokedAt) return { ok: false, reason: "revoked", message: `Access revoked on ${grant.revokedAt}: connect again to authorize`, grant };
      const at = now();
      if (record.expiresAt <= at) return { ok: false, reason: "expired", message: `Access token expired on ${new Date(record.expiresAt).toISOString()}: refresh it`, grant };
      if (Date.parse(grant.scope.expiresAt) <= at) return { ok: false, reason: "expired", message: `Access granted until ${grant.scope.expiresAt} has ended: connect again to authorize`, grant };
      return { ok: true, principal: principalOf(grant, record.expiresAt) };
    },
    revoke,
    async registered(client, source) {
      await audit("register", `client:${client.clientName}`, `Registered client ${client.clientName}`, { clientId: client.clientId, redirectUris: client.redirectUris, ...(source ? { source } : {}) });
    },
  };
}

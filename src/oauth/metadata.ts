/**
 * Discovery: the protected-resource metadata of `/mcp` (RFC 9728) and the authorization server's
 * metadata (RFC 8414). Both are built from the issuer, the origin the request came to, so a
 * gateway behind a proxy advertises the address clients reach it by.
 */
import type Koa from "koa";
import type { OAuthConfig } from "../config.js";

/** Paths of the endpoints (under the issuer). */
export const PATHS = {
  protectedResource: "/.well-known/oauth-protected-resource",
  authorizationServer: "/.well-known/oauth-authorization-server",
  authorize: "/oauth/authorize",
  token: "/oauth/token",
  register: "/oauth/register",
} as const;

/** The issuer (scheme and host) of a request; `https` when the socket or a trusted proxy says so. */
export function issuerOf(ctx: Koa.Context, trustProxy: boolean): string {
  const encrypted = (ctx.req.socket as { encrypted?: boolean }).encrypted === true;
  const forwarded = trustProxy && (ctx.get("x-forwarded-proto").split(",")[0] ?? "").trim().toLowerCase() === "https";
  return `${encrypted || forwarded ? "https" : "http"}://${ctx.get("host")}`;
}

/** The resource (RFC 8707) an access token is bound to: this gateway's `/mcp`. */
export function resourceOf(issuer: string): string {
  return `${issuer}/mcp`;
}

/** Where a 401 on /mcp points (the path-suffixed form RFC 9728 §3.1 defines for `/mcp`). */
export function resourceMetadataUrl(issuer: string): string {
  return `${issuer}${PATHS.protectedResource}/mcp`;
}

/** RFC 9728 §2. */
export function protectedResourceMetadata(issuer: string) {
  return {
    resource: resourceOf(issuer),
    authorization_servers: [issuer],
    bearer_methods_supported: ["header"],
    resource_name: "Countersign gateway",
  };
}

/** RFC 8414 §2, with the Client ID Metadata Document flag of the MCP authorization specification. */
export function authorizationServerMetadata(issuer: string, config: OAuthConfig) {
  return {
    issuer,
    authorization_endpoint: issuer + PATHS.authorize,
    token_endpoint: issuer + PATHS.token,
    ...(config.registration ? { registration_endpoint: issuer + PATHS.register } : {}),
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none"],
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
    scopes_supported: [],
  };
}

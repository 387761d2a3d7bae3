/**
 * Who a client is: a client registered by Dynamic Client Registration (RFC 7591), or a client whose
 * id is the HTTPS URL of its Client ID Metadata Document, fetched on first sight with SSRF
 * protections (HTTPS only, public addresses only, size and time limits) and cached.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { OAuthClient, OAuthStore } from "./contract.js";
import { OAuthError } from "./errors.js";
import { isIP } from "node:net";
import { guardedLookup, isLoopback, isPrivateAddress } from "./address-guard.js";
import { redirectUriProblem } from "./redirect.js";
import { mintId } from "./secrets.js";

/** The largest metadata document read. */
export const MAX_DOCUMENT_BYTES = 5 * 1024;
/** How long a metadata fetch may take. */
export const FETCH_TIMEOUT_MS = 3_000;
/** How long a fetched document is trusted before it is fetched again. */
export const DOCUMENT_TTL_MS = 5 * 60_000;
const MAX_REDIRECT_URIS = 10;

/** Checks the metadata common to both ways in; answers the cleaned name and redirect URIs. */
function checkMetadata(meta: Record<string, unknown>, code: "invalid_client_metadata" | "invalid_client"): { clientName: string; redirectUris: string[] } {
  const uris = meta.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || !uris.every((u) => typeof u === "string")) {
    throw new OAuthError(code === "invalid_client" ? "invalid_client" : "invalid_redirect_uri", "redirect_uris must be a non-empty array of URLs");
  }
  if (uris.length > MAX_REDIRECT_URIS) throw new OAuthError(code, `at most ${MAX_REDIRECT_URIS} redirect_uris`);
  for (const u of uris as string[]) {
    const problem = redirectUriProblem(u);
    if (problem) throw new OAuthError(code === "invalid_client" ? "invalid_client" : "invalid_redirect_uri", problem);
  }
  const rawName = meta.client_name;
  if (rawName !== undefined && typeof rawName !== "string") throw new OAuthError(code, "client_name must be a string");
  // The name is shown to a person on the consent page: printable, bounded.
  const clientName = (rawName ?? "").replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 100);
  for (const field of ["grant_types", "response_types"] as const) {
    const v = meta[field];
    if (v !== undefined && (!Array.isArray(v) || !v.every((x) => typeof x === "string"))) throw new OAuthError(code, `${field} must be an array of strings`);
  }
  const method = meta.token_endpoint_auth_method;
  if (method !== undefined && method !== "none") {
    throw new OAuthError(code, `token_endpoint_auth_method ${JSON.stringify(method)} is not supported: clients here are public clients (none) and prove themselves with PKCE`);
  }
  return { clientName, redirectUris: uris as string[] };
}

/** Registers a client (RFC 7591 §3.1); answers the record. */
export async function registerClient(store: OAuthStore, meta: Record<string, unknown>, now: Date): Promise<OAuthClient> {
  const { clientName, redirectUris } = checkMetadata(meta, "invalid_client_metadata");
  const client: OAuthClient = { clientId: mintId("oc_"), clientName: clientName || "Unnamed client", redirectUris, registeredAt: now.toISOString(), via: "registration" };
  await store.putClient(client);
  return client;
}

/** Whether a client id is a metadata-document URL (rather than a registered id). */
export function isMetadataUrl(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

/** Why a client id URL may not be fetched, or undefined. */
function clientIdUrlProblem(clientId: string, allowLoopback: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return "client_id is not a valid URL";
  }
  if (url.hash || url.username || url.password) return "a client_id URL must not carry a fragment or credentials";
  if (url.pathname === "/" || url.pathname === "") return "a client_id URL must have a path (the metadata document's location)";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && allowLoopback && ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname)) return undefined;
  return "a client_id URL must be https";
}

/** Fetches a URL with the guards: public addresses only, bounded size and time, no redirects. */
function fetchDocument(url: URL, allowLoopback: boolean): Promise<string> {
  // An address written in the URL is never looked up, so it is checked here.
  const literal = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(literal) && isPrivateAddress(literal) && !(allowLoopback && isLoopback(literal))) {
    return Promise.reject(new Error(`${literal} is a private or reserved address: client metadata is only fetched from public addresses`));
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    // The first outcome wins; the request is torn down with it.
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(err);
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, { method: "GET", lookup: guardedLookup(allowLoopback), timeout: FETCH_TIMEOUT_MS, headers: { accept: "application/json" } }, (res) => {
      if (res.statusCode !== 200) {
        return fail(new Error(`the metadata document answered HTTP ${res.statusCode ?? "?"}${res.statusCode && res.statusCode >= 300 && res.statusCode < 400 ? " (redirects are not followed)" : ""}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_DOCUMENT_BYTES) return fail(new Error(`the metadata document is larger than ${MAX_DOCUMENT_BYTES} bytes`));
        chunks.push(c);
      });
      res.on("end", () => {
        if (settled) return;
        settled = true;
        resolve(Buffer.concat(chunks).toString("utf8"));
      });
      res.on("error", fail);
    });
    req.on("timeout", () => fail(new Error(`the metadata document did not arrive within ${FETCH_TIMEOUT_MS} ms`)));
    req.on("error", fail);
    req.end();
  });
}

/** Finds clients: registered ones in the store, metadata-document ones fetched (and cached). */
export interface ClientDirectory {
  /** The client for an id, or the OAuthError("invalid_client") saying why there is none. */
  resolve(clientId: string): Promise<OAuthClient>;
}

/** Builds the directory. */
export function createClientDirectory(options: { store: OAuthStore; allowLoopback: boolean; now: () => number }): ClientDirectory {
  const cache = new Map<string, { client: OAuthClient; until: number }>();
  const inflight = new Map<string, Promise<OAuthClient>>();

  async function fromDocument(clientId: string): Promise<OAuthClient> {
    let text: string;
    try {
      text = await fetchDocument(new URL(clientId), options.allowLoopback);
    } catch (err) {
      throw new OAuthError("invalid_client", `client metadata document ${clientId} could not be fetched: ${(err as Error).message}`);
    }
    let meta: unknown;
    try {
      meta = JSON.parse(text);
    } catch {
      throw new OAuthError("invalid_client", `client metadata document ${clientId} is not JSON`);
    }
    if (!meta || typeof meta !== "object" || Array.isArray(meta)) throw new OAuthError("invalid_client", `client metadata document ${clientId} is not a JSON object`);
    const doc = meta as Record<string, unknown>;
    if (doc.client_id !== clientId) throw new OAuthError("invalid_client", `client metadata document ${clientId} names another client_id (${JSON.stringify(doc.client_id)})`);
    const { clientName, redirectUris } = checkMetadata(doc, "invalid_client");
    return { clientId, clientName: clientName || new URL(clientId).host, redirectUris, registeredAt: new Date(options.now()).toISOString(), via: "metadata_document" };
  }

  return {
    async resolve(clientId) {
      if (!isMetadataUrl(clientId)) {
        const client = await options.store.getClient(clientId);
        if (!client) throw new OAuthError("invalid_client", `unknown client_id ${JSON.stringify(clientId.slice(0, 80))}: register it first (POST /oauth/register)`);
        return client;
      }
      const problem = clientIdUrlProblem(clientId, options.allowLoopback);
      if (problem) throw new OAuthError("invalid_client", problem);
      const hit = cache.get(clientId);
      if (hit && hit.until > options.now()) return hit.client;
      let p = inflight.get(clientId);
      if (!p) {
        p = fromDocument(clientId).finally(() => inflight.delete(clientId));
        inflight.set(clientId, p);
      }
      const client = await p;
      cache.set(clientId, { client, until: options.now() + DOCUMENT_TTL_MS });
      return client;
    },
  };
}

/**
 * State without sessions (MCP 2026-07-28): what a 2025 session keeps across calls — the modules
 * `enable_modules` added in dynamic mode, and the schema profile — is handed to a 2026-07-28 client
 * as a handle it sends back in `params._meta["io.countersign/state"]`. The handle is sealed with
 * AES-256-GCM under a subkey of COUNTERSIGN_SECRET_KEY (the box that seals confirmation
 * requestStates), bound to the token it was minted for, and carries its own expiry; so any replica
 * with the same key serves any request, and a handle that was altered, has expired, or belongs to
 * another token is refused with -32602 naming why.
 */
import { GatewayError } from "../errors.js";
import type { Gateway } from "../gateway.js";
import { createSealedBox } from "../confirm/request-state.js";
import { readSecretKey } from "../tokens/sealed-credential.js";

/** The `_meta` key that carries the handle, on requests and on the `enable_modules` result. */
export const STATE_META_KEY = "io.countersign/state";

/** The first revision without sessions (revisions are ISO dates: they compare as strings). */
const FIRST_STATELESS_REVISION = "2026-07-28";
const VERSION = "st1";
const INFO = "countersign state handle v1";

/** What a handle holds. */
export interface CarriedState {
  readonly modules: readonly string[];
  readonly profile?: string;
}

type Box = ReturnType<typeof createSealedBox>;
const boxes = new WeakMap<Gateway, Box>();

function boxOf(gateway: Gateway): Box {
  let box = boxes.get(gateway);
  if (!box) {
    const key = readSecretKey({ COUNTERSIGN_SECRET_KEY: gateway.deps.config.secretKey });
    box = createSealedBox(key.ok ? key.key : undefined, INFO, VERSION);
    boxes.set(gateway, box);
  }
  return box;
}

const aad = (tokenId: string) => `${VERSION}\n${tokenId}`;

const refused = (why: string) =>
  new GatewayError("invalid_arguments", `_meta["${STATE_META_KEY}"] was refused: ${why}; call enable_modules again for a new handle`);

/** Mints a handle for `tokenId` holding `state`, valid for the configured time. */
export function mintState(gateway: Gateway, tokenId: string, state: CarriedState): string {
  const expiresAt = gateway.deps.now() + gateway.deps.config.mcp.stateTtlMs;
  return boxOf(gateway).seal({ m: state.modules, ...(state.profile ? { p: state.profile } : {}), e: expiresAt }, aad(tokenId));
}

/** The state a request's `_meta` carries for `tokenId`; undefined when it carries none. */
export function openState(gateway: Gateway, tokenId: string, meta: unknown): CarriedState | undefined {
  if (typeof meta !== "object" || meta === null) return undefined;
  const handle = (meta as Record<string, unknown>)[STATE_META_KEY];
  if (handle === undefined) return undefined;
  if (typeof handle !== "string") throw refused("it must be the string enable_modules returned");
  const opened = boxOf(gateway).open(handle, aad(tokenId));
  if (!opened.ok) throw refused(opened.why === "foreign" ? "it is not a handle this gateway issued" : "it was altered, or issued to another token");
  const p = opened.payload as { m: string[]; p?: string; e: number };
  if (gateway.deps.now() > p.e) throw refused("it has expired");
  return { modules: p.m, ...(p.p ? { profile: p.p } : {}) };
}

/**
 * For a 2026-07-28 request over HTTP (no session), what its handle carries: the modules to list
 * and the schema profile (a `?profile=` on the request's URL wins). Nothing for a 2025 session.
 */
export function carriedState(
  gateway: Gateway,
  binding: { readonly transport: string; readonly principal: { readonly tokenId: string }; readonly params: Readonly<Record<string, string>> },
  sessionId: string | undefined,
  version: string | undefined,
  meta: unknown,
): { enabledModules: Set<string>; params: Readonly<Record<string, string>>; carriesState: true } | undefined {
  if (binding.transport !== "http" || sessionId !== undefined || !(version !== undefined && version >= FIRST_STATELESS_REVISION)) return undefined;
  const state = openState(gateway, binding.principal.tokenId, meta);
  const params = state?.profile && binding.params.profile === undefined ? { ...binding.params, profile: state.profile } : binding.params;
  return { enabledModules: new Set(state?.modules ?? []), params, carriesState: true };
}

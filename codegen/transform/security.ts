/** Security Requirement Object (§4.8.30) and Security Scheme Object (§4.8.27): how a tool authenticates upstream. */
import type { SecurityScheme } from "../descriptor.js";
import { isObject } from "../load-spec.js";
import type { Resolver } from "../resolver.js";
import { SpecError, pointer } from "../spec-error.js";
import { cmp, type Ctx, type Obj, type RawOperation } from "./context.js";

const SCHEME_TYPES = ["http", "apiKey", "oauth2", "openIdConnect", "mutualTLS"];

/** The operation's requirements (or the root's): alternatives (OR) of schemes (AND). */
export function buildSecurity(raw: RawOperation, ctx: Ctx): SecurityScheme[][] {
  const root = ctx.spec.root;
  const fromOp = raw.op.security !== undefined;
  const reqs = fromOp ? raw.op.security : root.security;
  const at = fromOp ? `${raw.at}/security` : "#/security";
  if (reqs === undefined) return [];
  if (!Array.isArray(reqs)) throw new SpecError(at, "security must be a list of requirement objects");
  const schemes = isObject(root.components) && isObject(root.components.securitySchemes) ? root.components.securitySchemes : {};
  return reqs.map((req, i) => {
    if (!isObject(req)) throw new SpecError(`${at}/${i}`, "security requirement must be an object");
    return Object.keys(req)
      .sort(cmp)
      .map((name): SecurityScheme => {
        if (!Object.hasOwn(schemes, name)) throw new SpecError(pointer(`${at}/${i}`, name), `security scheme ${JSON.stringify(name)} is not defined in components.securitySchemes`);
        const sAt = pointer("#/components/securitySchemes", name);
        const s = ctx.resolver.deref(schemes[name], ctx.spec.rootUrl, sAt).value;
        if (!isObject(s) || typeof s.type !== "string") throw new SpecError(sAt, "security scheme has no type");
        const type = s.type as SecurityScheme["type"];
        if (!SCHEME_TYPES.includes(type)) throw new SpecError(`${sAt}/type`, `unknown security scheme type ${JSON.stringify(s.type)}`);
        const scopes = Array.isArray(req[name]) ? (req[name] as unknown[]).filter((x): x is string => typeof x === "string") : [];
        return {
          name,
          type,
          ...(type === "http" && typeof s.scheme === "string" ? { scheme: s.scheme.toLowerCase() } : {}),
          ...(type === "apiKey" && (s.in === "header" || s.in === "query" || s.in === "cookie") ? { in: s.in } : {}),
          ...(type === "apiKey" && typeof s.name === "string" ? { paramName: s.name } : {}),
          scopes,
        };
      });
  });
}

/** Paths of OAuth 2 flow endpoints declared by the spec's own security schemes (OAuth Flow Object, §4.8.29). */
export function collectOAuthPaths(root: Obj, resolver: Resolver, rootUrl: string): Set<string> {
  const out = new Set<string>();
  const schemes = isObject(root.components) && isObject(root.components.securitySchemes) ? root.components.securitySchemes : {};
  for (const [name, s] of Object.entries(schemes)) {
    let scheme: unknown;
    try {
      scheme = resolver.deref(s, rootUrl, pointer("#/components/securitySchemes", name)).value;
    } catch (err) {
      // A broken scheme excludes the operations that use it, where they are built.
      if (err instanceof SpecError) continue;
      throw err;
    }
    if (!isObject(scheme) || !isObject(scheme.flows)) continue;
    for (const flow of Object.values(scheme.flows)) {
      if (!isObject(flow)) continue;
      for (const k of ["authorizationUrl", "tokenUrl", "refreshUrl"]) {
        const u = flow[k];
        if (typeof u !== "string") continue;
        try {
          out.add(new URL(u, "http://relative.invalid").pathname);
        } catch {
          // An unparseable URL cannot match a path anyway.
        }
      }
    }
  }
  return out;
}

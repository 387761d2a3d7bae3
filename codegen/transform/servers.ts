/** Server Object (§4.8.5): the base path an operation's path is joined to. */
import { isObject } from "../load-spec.js";
import type { Ctx, Obj, RawOperation } from "./context.js";

/** Base path of the first applicable server URL, with variables set to their defaults. */
export function serverPath(raw: RawOperation, ctx: Ctx): string {
  const pick = (v: unknown): Obj | undefined => (Array.isArray(v) && isObject(v[0]) ? v[0] : undefined);
  const server = pick(raw.op.servers) ?? pick(raw.item.servers) ?? pick(ctx.spec.root.servers);
  if (!server || typeof server.url !== "string") return "";
  const vars = isObject(server.variables) ? server.variables : {};
  const url = server.url.replace(/\{([^}]+)\}/g, (_m, v: string) => {
    const d = isObject(vars[v]) ? vars[v].default : undefined;
    return typeof d === "string" ? d : "";
  });
  let p: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      p = new URL(url).pathname;
    } catch {
      return "";
    }
  } else {
    p = url.split(/[?#]/)[0]!;
    if (p.startsWith("//")) p = p.replace(/^\/\/[^/]*/, "");
  }
  p = p.replace(/\/+$/, "");
  return p === "" || p === "/" ? "" : p.startsWith("/") ? p : `/${p}`;
}

/** Paths Object (§4.8.8) and Path Item Object (§4.8.9): every operation of the spec, in path order. */
import { isObject } from "../load-spec.js";
import type { Resolver } from "../resolver.js";
import { SpecError, pointer } from "../spec-error.js";
import { METHODS, cmp, type Obj, type RawOperation } from "./context.js";

/** Lists the operations under `paths`, sorted by path then method. */
export function collectOperations(root: Obj, resolver: Resolver, rootUrl: string): RawOperation[] {
  const out: RawOperation[] = [];
  const paths = isObject(root.paths) ? root.paths : {};
  for (const path of Object.keys(paths).sort(cmp)) {
    if (path.startsWith("x-")) continue; // Paths Object extensions (§4.8.8) are not routes.
    const at = pointer("#/paths", path);
    if (!path.startsWith("/")) throw new SpecError(at, "path must start with /");
    const resolved = resolver.deref(paths[path], rootUrl, at);
    const item = resolved.value;
    if (!isObject(item)) throw new SpecError(at, "path item must be an object");
    const itemAt = resolved.key === "" ? at : resolver.display(resolved.url, resolved.fragment);
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      if (!isObject(op)) throw new SpecError(pointer(itemAt, method), "operation must be an object");
      out.push({ method, path, op, item, itemUrl: resolved.url, at: pointer(itemAt, method) });
    }
  }
  return out;
}

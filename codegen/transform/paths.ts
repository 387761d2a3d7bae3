/** Paths Object (§4.8.8) and Path Item Object (§4.8.9): every operation of the spec, in path order. */
import { isObject } from "../load-spec.js";
import type { Resolver } from "../resolver.js";
import { SpecError, pointer } from "../spec-error.js";
import { addWarning, kindOf, type SpecWarning } from "../warnings.js";
import { METHODS, cmp, type Obj, type RawOperation } from "./context.js";

/** An operation that is not an object: listed, so it can be excluded with its reason. */
export interface InvalidOperation {
  readonly method: string;
  readonly path: string;
  readonly problem: SpecWarning;
}

/** Lists the operations under `paths`, sorted by path then method; unusable path items become warnings. */
export function collectOperations(root: Obj, resolver: Resolver, rootUrl: string, warnings: SpecWarning[]): { operations: RawOperation[]; invalid: InvalidOperation[] } {
  const out: RawOperation[] = [];
  const invalid: InvalidOperation[] = [];
  const skip = (at: string, problem: string): void => addWarning(warnings, { pointer: at, problem: `${problem}; its operations were skipped` });
  const paths = isObject(root.paths) ? root.paths : {};
  for (const path of Object.keys(paths).sort(cmp)) {
    if (path.startsWith("x-")) continue; // Paths Object extensions (§4.8.8) are not routes.
    const at = pointer("#/paths", path);
    if (!path.startsWith("/")) {
      skip(at, "path must start with /");
      continue;
    }
    let resolved;
    try {
      resolved = resolver.deref(paths[path], rootUrl, at);
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      skip(err.pointer || at, err.problem);
      continue;
    }
    const item = resolved.value;
    if (!isObject(item)) {
      skip(at, `path item must be an object, not ${kindOf(item)}`);
      continue;
    }
    const itemAt = resolved.key === "" ? at : resolver.display(resolved.url, resolved.fragment);
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const opAt = pointer(itemAt, method);
      if (!isObject(op)) {
        invalid.push({ method: method.toUpperCase(), path, problem: { pointer: opAt, problem: `operation must be an object, not ${kindOf(op)}` } });
        continue;
      }
      out.push({ method, path, op, item, itemUrl: resolved.url, at: opAt });
    }
  }
  return { operations: out, invalid };
}
